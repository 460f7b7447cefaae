package reporting

import (
	"encoding/csv"
	"io"
	"strconv"
)

// CellText is a cell's published value: the count, "<k" for a small
// count, or "x" for a cell hidden to protect a small one.
func CellText(c Cell, k int) string {
	return CellTextIn(c, k, strconv.Itoa)
}

// CellTextIn is CellText with its numbers written by number: a page
// writes them in its language's format (1.234, ١٬٢٣٤), a file in digits.
func CellTextIn(c Cell, k int, number func(int) string) string {
	if c.Secondary {
		return "x"
	}
	if c.Suppressed {
		return "<" + number(k)
	}
	return number(c.Count)
}

// ShareText is a cell's share in percent with one decimal, or "" when it
// is suppressed.
func ShareText(c Cell) string {
	if c.Suppressed {
		return ""
	}
	return strconv.FormatFloat(c.Share, 'f', 1, 64)
}

// WriteStatsCSV writes the tables (all, or the one named by table) in
// long form: one line per cell with the codes of its row and column
// ("total" for a margin), the published count ("<k" when suppressed) and
// the share in percent. Codes, not labels: they are the stable
// identifiers of CLASSIFICATION.md. ENotFound for an unknown table.
func WriteStatsCSV(w io.Writer, st Statistics, table string) error {
	out := csv.NewWriter(w)
	out.Write([]string{"year", "table", "row", "column", "count", "share_percent", "multiple_per_case"})
	found := false
	for _, t := range st.Tables {
		if table != "" && t.ID != table {
			continue
		}
		found = true
		line := func(row, col string, c Cell) {
			out.Write([]string{strconv.Itoa(st.Year), t.ID, row, col, CellText(c, st.K), ShareText(c), strconv.FormatBool(t.PerCase)})
		}
		for i, r := range t.Rows {
			for j, c := range t.Cells[i] {
				col := ""
				if t.ColDim != "" {
					col = t.Cols[j]
				}
				line(r, col, c)
			}
			if t.ColDim != "" {
				line(r, "total", t.RowTotals[i])
			}
		}
		if t.ColDim != "" {
			for j, c := range t.ColTotals {
				line("total", t.Cols[j], c)
			}
			line("total", "total", t.Total)
		} else {
			line("total", "", t.Total)
		}
	}
	if !found {
		return Errorf(ENotFound, "error.not_found")
	}
	out.Flush()
	return out.Error()
}
