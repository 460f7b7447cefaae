package reporting

// Suppress decides which cells of a table of counts are published as "<k"
// instead of their value. The table's published margins (row totals, and
// column totals when cols is true) are the true sums; zero cells are
// published as 0.
//
// Primary suppression hides every cell with 1 to k−1 cases: a small count
// can point to one person. Secondary suppression then makes sure no hidden
// value can be worked out from a published total and the other published
// cells: in every row (and, with cols, every column) that holds exactly
// one hidden cell, the smallest published non-zero cell of that line is
// hidden too (a zero only when the line has no other: a hidden zero
// beside one small count leaves their sum equal to the small count),
// until no line has exactly one. A one-dimensional table with a total is
// one row.
//
// It returns a mask of the same shape; it does not change cells.
func Suppress(cells [][]int, k int, cols bool) [][]bool {
	hidden := make([][]bool, len(cells))
	for i, row := range cells {
		hidden[i] = make([]bool, len(row))
		for j, n := range row {
			hidden[i][j] = n >= 1 && n < k
		}
	}
	// hideSmallest hides the smallest published non-zero cell among the
	// given positions, else a zero; ties go to the first, so the result
	// is deterministic.
	hideSmallest := func(pos [][2]int) {
		best := -1
		less := func(a, b int) bool {
			if (a == 0) != (b == 0) {
				return b == 0 // any non-zero before a zero
			}
			return a < b
		}
		for p, ij := range pos {
			if hidden[ij[0]][ij[1]] {
				continue
			}
			if best < 0 || less(cells[ij[0]][ij[1]], cells[pos[best][0]][pos[best][1]]) {
				best = p
			}
		}
		if best >= 0 {
			hidden[pos[best][0]][pos[best][1]] = true
		}
	}
	width := 0
	for _, row := range cells {
		width = max(width, len(row))
	}
	for changed := true; changed; {
		changed = false
		for i, row := range cells {
			var pos [][2]int
			n := 0
			for j := range row {
				pos = append(pos, [2]int{i, j})
				if hidden[i][j] {
					n++
				}
			}
			if n == 1 && len(row) > 1 {
				hideSmallest(pos)
				changed = true
			}
		}
		if !cols {
			continue
		}
		for j := range width {
			var pos [][2]int
			n := 0
			for i := range cells {
				if j < len(cells[i]) {
					pos = append(pos, [2]int{i, j})
					if hidden[i][j] {
						n++
					}
				}
			}
			if n == 1 && len(pos) > 1 {
				hideSmallest(pos)
				changed = true
			}
		}
	}
	return hidden
}
