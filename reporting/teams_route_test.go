package reporting

import (
	"slices"
	"testing"
)

// route sends each municipality to the one team that covers it, whatever
// the order of the teams, and only an uncovered one (which the team rules
// never let happen) to the first team.
func TestRouteTable(t *testing.T) {
	first := Team{ID: 1, Name: "PLANB", Municipalities: []string{"bochum", "ennepe_ruhr", "other_nrw", "outside_nrw", "not_stated"}}
	herne := Team{ID: 2, Name: "Herne", Municipalities: []string{"herne", "marl"}}
	west := Team{ID: 3, Name: "West", Municipalities: []string{"essen", "muelheim"}}
	empty := Team{ID: 4, Name: "Leer"}
	net := Team{ID: 5, Name: "Netz", Municipalities: []string{"online"}}
	want := map[string]int64{
		"bochum": 1, "herne": 2, "essen": 3, "muelheim": 3, "ennepe_ruhr": 1,
		"marl": 2, "other_nrw": 1, "outside_nrw": 1, "online": 5, "not_stated": 1,
	}
	orders := [][]Team{
		{first, herne, west, empty, net},
		{net, empty, west, herne, first},
		{herne, first, net, west, empty},
	}
	for _, teams := range orders {
		for _, m := range Municipalities {
			got, ok := route(teams, m)
			if !ok || got.ID != want[m] {
				t.Errorf("route(%s) with teams in order %v = team %d (%v), want %d", m, ids(teams), got.ID, ok, want[m])
			}
		}
	}
	// Uncovered (cannot happen through the office): the first team, so
	// that no report is ever refused.
	if got, ok := route([]Team{herne, west}, "bochum"); !ok || got.ID != herne.ID {
		t.Errorf("uncovered bochum went to %d, %v; want the first team", got.ID, ok)
	}
	if _, ok := route(nil, "bochum"); ok {
		t.Error("route with no teams found one")
	}
}

func ids(teams []Team) []int64 {
	var out []int64
	for _, t := range teams {
		out = append(out, t.ID)
	}
	return out
}

// assign takes the chosen municipalities from every other team and leaves
// the rest alone; Uncovered names what a change would leave without team.
func TestAssignAndUncovered(t *testing.T) {
	teams := []Team{
		{ID: 1, Municipalities: []string{"bochum", "herne", "essen"}},
		{ID: 2, Municipalities: []string{"marl"}},
		{ID: 3, Municipalities: []string{"online"}},
	}
	changed := assign(teams, 3, []string{"herne", "online", "marl"})
	if len(changed) != 2 || changed[0].ID != 1 || !slices.Equal(changed[0].Municipalities, []string{"bochum", "essen"}) ||
		changed[1].ID != 2 || len(changed[1].Municipalities) != 0 {
		t.Errorf("assign = %+v", changed)
	}
	if !slices.Equal(teams[0].Municipalities, []string{"bochum", "herne", "essen"}) {
		t.Errorf("assign changed its input: %+v", teams[0])
	}
	if got := Uncovered(teams, 1, []string{"bochum"}); !slices.Equal(got, []string{"herne", "essen"}) {
		t.Errorf("Uncovered = %v, want [herne essen]", got)
	}
	if got := Uncovered(teams, 2, nil); !slices.Equal(got, []string{"marl"}) {
		t.Errorf("Uncovered = %v, want [marl]", got)
	}
	if got := Uncovered(teams, 0, []string{"online"}); got != nil {
		t.Errorf("a new team taking online uncovers %v", got)
	}
	// Not covered before (never through the office): not this change's fault.
	if got := Uncovered(teams, 2, []string{"marl"}); got != nil {
		t.Errorf("Uncovered = %v for an unchanged team", got)
	}
}
