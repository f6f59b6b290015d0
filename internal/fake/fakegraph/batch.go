package fakegraph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

// maxBatchRequests is the most requests Graph accepts in one JSON batch.
const maxBatchRequests = 20

// batchRequest is one entry of the requests array of a JSON batch.
type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batchResponse is one entry of the responses array of a JSON batch.
type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// BatchItems returns how many requests inside JSON batches arrived whose
// decoded path, with the /v1.0 prefix, starts with prefix. Requests
// counts each batch once, under /v1.0/$batch.
func (s *Server) BatchItems(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, path := range s.batchItemPaths {
		if strings.HasPrefix(path, prefix) {
			n++
		}
	}
	return n
}

// registerBatch serves POST /$batch. Each item passes through the
// throttle and then the routes of mux, as a request of its own would.
func (s *Server) registerBatch(mux *http.ServeMux) {
	mux.HandleFunc("POST "+apiVersionPath+"/$batch", func(w http.ResponseWriter, r *http.Request) {
		s.handleBatch(w, r, mux)
	})
}

// handleBatch serves a Graph JSON batch:
// a body of up to 20 requests with unique IDs and relative URLs, answered
// with 200 and one response per request. dependsOn is not supported.
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	var body struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "Invalid batch payload: "+err.Error())
		return
	}
	if message := checkBatch(body.Requests); message != "" {
		writeError(w, r, http.StatusBadRequest, "BadRequest", message)
		return
	}

	responses := make([]batchResponse, len(body.Requests))
	for i, item := range body.Requests {
		responses[i] = s.serveBatchItem(r, mux, item)
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"responses": responses})
}

// checkBatch returns why Graph would reject the batch as a whole, or "".
func checkBatch(requests []batchRequest) string {
	switch {
	case len(requests) == 0:
		return "Invalid batch payload: the requests array is empty."
	case len(requests) > maxBatchRequests:
		return fmt.Sprintf("Invalid batch payload: %d requests, but a batch holds at most %d.",
			len(requests), maxBatchRequests)
	}
	seen := make(map[string]bool, len(requests))
	for _, item := range requests {
		switch {
		case item.ID == "" || item.Method == "" || item.URL == "":
			return "Invalid batch payload: every request needs id, method and url."
		case seen[item.ID]:
			return fmt.Sprintf("Invalid batch payload: request id '%s' is not unique.", item.ID)
		case len(item.DependsOn) > 0:
			return "Invalid batch payload: dependsOn is not supported by this fake."
		}
		seen[item.ID] = true
	}
	return ""
}

// serveBatchItem runs one batch item through the routes and returns its
// response.
func (s *Server) serveBatchItem(outer *http.Request, mux *http.ServeMux, item batchRequest) batchResponse {
	recorder := httptest.NewRecorder()
	r, err := itemRequest(outer, item)
	if err != nil {
		writeError(recorder, outer, http.StatusBadRequest, "BadRequest", err.Error())
		return recordedResponse(item.ID, recorder)
	}
	dollarSegment := findDollarSegment(r.URL.Path)
	rewriteKeySegments(r.URL)
	s.recordBatchItem(r.URL.Path)

	_, pattern := mux.Handler(r)
	switch {
	case dollarSegment != "":
		writeError(recorder, r, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Segment '%s' is not valid: only OData system segments start with '$'.", dollarSegment))
	case pattern == "" || strings.HasSuffix(pattern, "/$batch"):
		writeError(recorder, r, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Resource not found for the segment '%s'.", lastSegment(r.URL.Path)))
	default:
		if retryAfter, ok := s.admit(r); !ok {
			writeThrottled(recorder, r, retryAfter)
		} else {
			mux.ServeHTTP(recorder, r)
		}
	}
	return recordedResponse(item.ID, recorder)
}

// itemRequest builds the HTTP request of a batch item. Its URL is
// relative to the version root, with or without a leading slash.
func itemRequest(outer *http.Request, item batchRequest) (*http.Request, error) {
	target, err := url.Parse(item.URL)
	if err != nil || target.IsAbs() || target.Host != "" {
		return nil, fmt.Errorf("Invalid request URL '%s': batch URLs are relative to the version root.", item.URL)
	}
	var body bytes.Buffer
	if len(item.Body) > 0 && string(item.Body) != "null" {
		body.Write(item.Body)
	}
	r, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(item.Method),
		apiVersionPath+"/"+strings.TrimPrefix(item.URL, "/"), &body)
	if err != nil {
		return nil, fmt.Errorf("Invalid request '%s %s': %v", item.Method, item.URL, err)
	}
	for key, value := range item.Headers {
		r.Header.Set(key, value)
	}
	r.Header.Set("Authorization", outer.Header.Get("Authorization"))
	return r, nil
}

// recordedResponse converts a recorded response into a batch response.
// Graph embeds a JSON body as an object.
func recordedResponse(id string, recorder *httptest.ResponseRecorder) batchResponse {
	headers := make(map[string]string)
	for key, values := range recorder.Header() {
		headers[key] = strings.Join(values, ",")
	}
	resp := batchResponse{ID: id, Status: recorder.Code, Headers: headers}
	if b := bytes.TrimSpace(recorder.Body.Bytes()); json.Valid(b) && len(b) > 0 {
		resp.Body = b
	}
	return resp
}

func (s *Server) recordBatchItem(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batchItemPaths = append(s.batchItemPaths, path)
}
