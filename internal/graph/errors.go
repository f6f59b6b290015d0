package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/entrabridge/entrabridge/internal/failure"
)

// service is the failure.Error Service of every error from this package.
const service = "graph"

// classify converts an error from the SDK or the credential into a
// *failure.Error, so that the worker acts on its class. last, if not nil,
// holds the call's last response.
func classify(err error, last *lastResponse) error {
	var authErr *azidentity.AuthenticationFailedError
	var apiErr abstractions.ApiErrorable
	switch {
	case errors.As(err, &authErr):
		return authenticationFailure(authErr)
	case errors.As(err, &apiErr):
		return responseFailure(apiErr)
	}

	if last != nil {
		if status, header := last.get(); status >= http.StatusBadRequest {
			return &failure.Error{
				Service:    service,
				Class:      failure.ClassOfStatus(status),
				Status:     status,
				Detail:     "unreadable error response",
				RetryAfter: failure.ParseRetryAfter(header, time.Now()),
				Err:        err,
			}
		}
	}
	// Timeouts, cancellations, refused connections and TLS failures have
	// no response to judge by. The maximum retry age bounds their retries.
	return &failure.Error{Service: service, Class: failure.Retryable, Err: err}
}

// responseFailure classifies an error response from Graph by its status:
// 404 is NotFound, 429 and 5xx are Retryable, other 4xx are Permanent.
func responseFailure(apiErr abstractions.ApiErrorable) *failure.Error {
	status := apiErr.GetStatusCode()
	code, message := errorBody(apiErr)
	// Err stays nil because ODataError.Error dereferences the message
	// without a nil check and panics on a body without one.
	return &failure.Error{
		Service:    service,
		Class:      failure.ClassOfStatus(status),
		Status:     status,
		Code:       code,
		Detail:     message,
		RetryAfter: failure.ParseRetryAfter(httpHeader(apiErr.GetResponseHeaders()), time.Now()),
	}
}

// errorBody returns error.code and error.message of a Graph error body,
// or the SDK's message when the body had no Graph error.
func errorBody(apiErr abstractions.ApiErrorable) (code, message string) {
	switch e := apiErr.(type) {
	case *odataerrors.ODataError:
		if main := e.GetErrorEscaped(); main != nil {
			return deref(main.GetCode()), deref(main.GetMessage())
		}
		return "", "error response without a Graph error body"
	case *abstractions.ApiError:
		return "", e.Message
	}
	return "", ""
}

func httpHeader(headers *abstractions.ResponseHeaders) http.Header {
	h := make(http.Header)
	if headers == nil {
		return h
	}
	for _, key := range headers.ListKeys() {
		for _, value := range headers.Get(key) {
			h.Add(key, value)
		}
	}
	return h
}

// authenticationFailure classifies a failed token request. Entra's 429
// and 5xx are Retryable. Every other rejection, such as a wrong secret,
// an unknown client or tenant, or a missing consent, is Permanent until
// an operator fixes the configuration. It is never NotFound, which the
// worker would take to mean that the user is gone.
func authenticationFailure(authErr *azidentity.AuthenticationFailedError) *failure.Error {
	resp := authErr.RawResponse
	if resp == nil {
		// No response means the token endpoint could not be reached.
		return &failure.Error{
			Service: service,
			Class:   failure.Retryable,
			Detail:  "authentication failed",
			Err:     authErr,
		}
	}

	class := failure.Permanent
	if failure.ClassOfStatus(resp.StatusCode) == failure.Retryable {
		class = failure.Retryable
	}
	code, description := oauthErrorBody(resp)
	detail := "authentication failed"
	if description != "" {
		detail += ": " + description
	}
	// Err stays nil because the credential's message repeats the whole
	// response body over many lines.
	return &failure.Error{
		Service:    service,
		Class:      class,
		Status:     resp.StatusCode,
		Code:       code,
		Detail:     detail,
		RetryAfter: failure.ParseRetryAfter(resp.Header, time.Now()),
	}
}

// oauthErrorBody returns the error and the first line of the
// error_description of an Entra token error. Entra puts trace and
// correlation IDs on the lines after the first.
func oauthErrorBody(resp *http.Response) (code, description string) {
	body, err := runtime.Payload(resp)
	if err != nil {
		return "", ""
	}
	var parsed struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &parsed) != nil {
		return "", ""
	}
	firstLine, _, _ := strings.Cut(parsed.ErrorDescription, "\n")
	return parsed.Error, strings.TrimSpace(firstLine)
}
