package main

import (
	"fmt"
	"strings"
)

// table is a markdown table.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t table) markdown() string {
	var b strings.Builder
	writeRow := func(cells []string) {
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	writeRow(t.header)
	separators := make([]string, len(t.header))
	for i := range separators {
		separators[i] = "---"
	}
	writeRow(separators)
	for _, r := range t.rows {
		writeRow(r)
	}
	return b.String()
}

// target is one measured value checked against its target.
type target struct {
	name     string
	measured string
	goal     string
	met      bool
}

// targetTable returns the targets as a table with a verdict per row.
func targetTable(targets []target) string {
	t := table{header: []string{"Target", "Measured", "Goal", "Met"}}
	for _, tg := range targets {
		t.add(tg.name, tg.measured, tg.goal, verdict(tg.met))
	}
	return t.markdown()
}

func verdict(met bool) string {
	if met {
		return "yes"
	}
	return "**no**"
}

func formatRate(perSecond float64) string {
	return fmt.Sprintf("%.0f/s", perSecond)
}

func formatRatio(a, b float64) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func formatCores(cores float64) string {
	if cores < 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f", cores)
}
