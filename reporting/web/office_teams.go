package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// teamRoutes registers team administration, for admins only: the list of
// teams, creating and editing a team, adding and removing members. (Moving
// a case to another team is case work and lives with the case routes.)
func (s *Server) teamRoutes(teams *gin.RouterGroup) {
	teams.GET("/teams", s.teamList)
	teams.POST("/teams", s.createTeam)
	teams.GET("/teams/:team", s.team)
	teams.POST("/teams/:team", s.updateTeam)
	teams.POST("/teams/:team/members", s.addTeamMember)
	teams.POST("/teams/:team/members/:user/remove", s.removeTeamMember)
}

// teamForm is a create or edit form as typed, and its errors.
type teamForm struct {
	Name           string
	Municipalities []string
	Errors         map[string]string
	Uncovered      []string // municipalities the change would leave without a team
}

// municipality is one checkbox of the form: the code and the team that has
// it now, so the admin sees that ticking it moves it.
type municipality struct {
	Code    string
	Team    string
	TeamID  int64
	Checked bool
}

// municipalityChoices lists every municipality with its current team and
// whether the form has it ticked.
func municipalityChoices(teams []reporting.Team, ticked []string) []municipality {
	out := make([]municipality, len(reporting.Municipalities))
	for i, code := range reporting.Municipalities {
		out[i].Code = code
		for _, t := range teams {
			if t.Covers(code) {
				out[i].Team, out[i].TeamID = t.Name, t.ID
			}
		}
		for _, m := range ticked {
			if m == code {
				out[i].Checked = true
			}
		}
	}
	return out
}

// teamsData is the teams page: the list and the create form.
type teamsData struct {
	Teams   []reporting.TeamInfo
	Form    teamForm
	Choices []municipality
}

func plainTeams(infos []reporting.TeamInfo) []reporting.Team {
	teams := make([]reporting.Team, len(infos))
	for i, t := range infos {
		teams[i] = t.Team
	}
	return teams
}

// teamList lists the teams with their municipalities and members, and offers
// the form for a new team.
func (s *Server) teamList(c *gin.Context) {
	s.renderTeams(c, http.StatusOK, teamForm{})
}

func (s *Server) renderTeams(c *gin.Context, status int, f teamForm) {
	infos, err := s.teams.TeamOverview(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, status, "teams", view{Title: "teams.title",
		Data: teamsData{Teams: infos, Form: f, Choices: municipalityChoices(plainTeams(infos), f.Municipalities)}})
}

// formErrors returns the errors to show on a team form: those of its
// fields, or under "form" a conflict such as another admin having changed
// the teams meanwhile, so the admin keeps what they typed and can retry.
func formErrors(err error) map[string]string {
	if errs := reporting.FieldErrors(err); errs != nil {
		return errs
	}
	if reporting.ErrorCode(err) == reporting.EConflict {
		return map[string]string{"form": reporting.MessageID(err)}
	}
	return nil
}

// readTeamForm parses a create or edit form.
func (s *Server) readTeamForm(c *gin.Context) (reporting.TeamForm, bool) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return reporting.TeamForm{}, false
	}
	pf := c.Request.PostForm
	return reporting.TeamForm{Name: pf.Get("name"), Municipalities: pf["municipalities"]}, true
}

// createTeam creates a team; its key is sealed to the recovery key and to
// the admin, who can then add members.
func (s *Server) createTeam(c *gin.Context) {
	f, ok := s.readTeamForm(c)
	if !ok {
		return
	}
	id, err := s.teams.CreateTeam(c.Request.Context(), session(c), f)
	if errs := formErrors(err); errs != nil {
		s.renderTeams(c, http.StatusUnprocessableEntity, teamForm{Name: f.Name, Municipalities: f.Municipalities, Errors: errs})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/teams/"+strconv.FormatInt(id, 10))
}

// teamData is one team's page: the edit form, the members and the form to
// add one.
type teamData struct {
	Team    reporting.TeamInfo
	Form    teamForm
	Choices []municipality
	// User is the member chosen in the add form, and UserError its error.
	User      int64
	UserError string
	// MemberError says why a member could not be removed.
	MemberError string
}

// teamID reads the :team path segment; an ID that is not a number is a
// team that does not exist.
func (s *Server) teamID(c *gin.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		s.errorPage(c, http.StatusNotFound, "error.not_found")
		return 0, false
	}
	return id, true
}

// team shows one team.
func (s *Server) team(c *gin.Context) {
	id, ok := s.teamID(c, "team")
	if !ok {
		return
	}
	s.renderTeam(c, http.StatusOK, id, nil, teamData{})
}

// renderTeam shows a team's page. With form nil the edit form shows the
// team as stored; otherwise what the admin typed.
func (s *Server) renderTeam(c *gin.Context, status int, id int64, form *teamForm, d teamData) {
	info, err := s.teams.TeamDetail(c.Request.Context(), session(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Team = info
	if form != nil {
		d.Form = *form
	} else {
		d.Form = teamForm{Name: info.Name, Municipalities: info.Municipalities}
	}
	teams, err := s.teams.TeamOverview(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Choices = municipalityChoices(plainTeams(teams), d.Form.Municipalities)
	if d.Form.Errors["municipalities"] == "error.team.uncovered" {
		d.Form.Uncovered = reporting.Uncovered(plainTeams(teams), id, d.Form.Municipalities)
	}
	s.render(c, status, "team_edit", view{Title: "team_edit.title", Data: d})
}

// updateTeam renames a team and sets its municipalities.
func (s *Server) updateTeam(c *gin.Context) {
	id, ok := s.teamID(c, "team")
	if !ok {
		return
	}
	f, ok := s.readTeamForm(c)
	if !ok {
		return
	}
	err := s.teams.UpdateTeam(c.Request.Context(), session(c), id, f)
	if errs := formErrors(err); errs != nil {
		s.renderTeam(c, http.StatusUnprocessableEntity, id, &teamForm{Name: f.Name, Municipalities: f.Municipalities, Errors: errs}, teamData{})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/teams/"+strconv.FormatInt(id, 10))
}

// addTeamMember gives a user the team's key.
func (s *Server) addTeamMember(c *gin.Context) {
	id, ok := s.teamID(c, "team")
	if !ok {
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	userID, err := strconv.ParseInt(c.Request.PostForm.Get("user"), 10, 64)
	if err != nil {
		s.renderTeam(c, http.StatusUnprocessableEntity, id, nil, teamData{UserError: "error.team.user_required"})
		return
	}
	err = s.teams.AddTeamMember(c.Request.Context(), session(c), id, userID)
	if errs := reporting.FieldErrors(err); errs != nil {
		s.renderTeam(c, http.StatusUnprocessableEntity, id, nil, teamData{User: userID, UserError: errs["user"]})
		return
	}
	if reporting.ErrorCode(err) == reporting.EConflict { // e.g. the session does not hold the key
		s.renderTeam(c, http.StatusConflict, id, nil, teamData{User: userID, UserError: reporting.MessageID(err)})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/teams/"+strconv.FormatInt(id, 10))
}

// removeTeamMember takes the team's key from a user, in the database and in
// their live sessions.
func (s *Server) removeTeamMember(c *gin.Context) {
	id, ok := s.teamID(c, "team")
	if !ok {
		return
	}
	userID, ok := s.teamID(c, "user")
	if !ok {
		return
	}
	err := s.teams.RemoveTeamMember(c.Request.Context(), session(c), id, userID)
	if reporting.ErrorCode(err) == reporting.EConflict { // the last member
		s.renderTeam(c, http.StatusConflict, id, nil, teamData{MemberError: reporting.MessageID(err)})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/teams/"+strconv.FormatInt(id, 10))
}
