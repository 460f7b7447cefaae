package web

import (
	"html/template"
	"strconv"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// The dots of the form partials (templates/*.partial.html) and the
// template functions that build them. A field that several pages show is
// written once, so that its label, error and aria attributes cannot drift
// apart between the copies (issue 12).

// selectField is what the "select" partial shows: a labelled <select>
// with an optional hint, the field's error and its options.
type selectField struct {
	ID, Name string
	Label    string // message ID
	Hint     string // message ID; "" for none
	Error    string // the translated error, "" when the field is fine
	Errors   map[string]string
	Required bool
	Options  []selectOption
}

// selectOption is one <option>: its value, its text (translated already)
// and whether the form had it chosen.
type selectOption struct {
	Value, Text string
	Selected    bool
}

// uploadField is what the "upload" partial shows: the file field of the
// report form and of the follow-up answer form.
type uploadField struct {
	Error string // the translated error, "" when the files were fine
	// Reselect: files had been chosen before a language switch, which a
	// browser cannot carry over, so the person is asked to choose again.
	Reselect bool
}

// teamFormBox is what the "team_form" partial shows: the create form
// (TeamID 0) or the edit form of one team.
type teamFormBox struct {
	Action   string
	TeamID   int64 // 0 on the create form
	Form     teamForm
	Choices  []municipality
	Hint     string // message ID of the municipalities' hint
	SubmitID string
	Submit   string // message ID
}

// messageBox is what the "message" partial shows: one message of a
// follow-up thread, on the office's case page (Office) or on the
// reporter's page, where a file is fetched with a form that carries the
// token (FileAction) instead of a link.
type messageBox struct {
	Message    reporting.Message
	Office     bool
	Token      string
	FileAction string
}

// reporterFileBox is what the "reporter_file" partial shows: one file on
// the reporter's page, with its size or without.
type reporterFileBox struct {
	File       reporting.Attachment
	Token      string
	FileAction string
	Size       bool
}

// partialFuncs are the template functions that build the partials' dots;
// t translates in the page's language.
func partialFuncs(t func(string, ...any) string) template.FuncMap {
	return template.FuncMap{
		// selectBox is the dot of the "select" partial: the control's id,
		// the field's name, the label's and the hint's message IDs, the
		// form's errors and the options. The error's id is "err-" + id.
		"selectBox": func(id, name, label, hint string, errs map[string]string, opts []selectOption) selectField {
			f := selectField{ID: id, Name: name, Label: label, Hint: hint, Errors: errs, Options: opts}
			if msg, ok := errs[name]; ok {
				f.Error = t(msg)
			}
			return f
		},
		// required marks a select field as required.
		"required": func(f selectField) selectField { f.Required = true; return f },
		// codeOptions are the options of a vocabulary, each shown by its
		// label: codeOptions "cls.level" $v.Levels $cf.Level.
		"codeOptions": func(kind string, codes []string, selected string) []selectOption {
			opts := make([]selectOption, len(codes))
			for i, c := range codes {
				opts[i] = selectOption{Value: c, Text: t(kind + "." + c), Selected: c == selected}
			}
			return opts
		},
		// assigneeOptions are the people a case can be assigned to.
		"assigneeOptions": func(people []reporting.Assignee, selected int64) []selectOption {
			opts := make([]selectOption, len(people))
			for i, p := range people {
				opts[i] = selectOption{Value: strconv.FormatInt(p.ID, 10), Text: p.Name, Selected: p.ID == selected}
			}
			return opts
		},
		// teamOptions are the teams a case can be moved to.
		"teamOptions": func(teams []reporting.Team, selected int64) []selectOption {
			opts := make([]selectOption, len(teams))
			for i, tm := range teams {
				opts[i] = selectOption{Value: strconv.FormatInt(tm.ID, 10), Text: tm.Name, Selected: tm.ID == selected}
			}
			return opts
		},
		// memberOptions are the users who may join a team, each with
		// their role.
		"memberOptions": func(users []reporting.Member, selected int64) []selectOption {
			opts := make([]selectOption, len(users))
			for i, u := range users {
				opts[i] = selectOption{Value: strconv.FormatInt(u.ID, 10), Text: u.Name + " (" + t("team_edit.role."+u.Role) + ")", Selected: u.ID == selected}
			}
			return opts
		},
		// first puts an option before the others, not chosen unless
		// nothing else is: first "" "triage.choose" (codeOptions …).
		"first": func(value, text string, opts []selectOption) []selectOption {
			return append([]selectOption{{Value: value, Text: t(text)}}, opts...)
		},
		// uploadBox is the dot of the "upload" partial: the form's errors
		// and whether files must be chosen again.
		"uploadBox": func(errs map[string]string, reselect bool) uploadField {
			f := uploadField{Reselect: reselect}
			if msg, ok := errs[attachmentsField]; ok {
				f.Error = t(msg)
			}
			return f
		},
		// officeMessage is the dot of the "message" partial on the case
		// page.
		"officeMessage": func(m reporting.Message) messageBox {
			return messageBox{Message: m, Office: true}
		},
		// reporterMessage is the dot of the "message" partial on the
		// reporter's page: the token and the download form's action.
		"reporterMessage": func(m reporting.Message, token, action string) messageBox {
			return messageBox{Message: m, Token: token, FileAction: action}
		},
		// reporterFile is the dot of the "reporter_file" partial.
		"reporterFile": func(f reporting.Attachment, token, action string, size bool) reporterFileBox {
			return reporterFileBox{File: f, Token: token, FileAction: action, Size: size}
		},
		// teamFormBox is the dot of the "team_form" partial.
		"teamFormBox": func(action string, teamID int64, form teamForm, choices []municipality, hint, submitID, submit string) teamFormBox {
			return teamFormBox{Action: action, TeamID: teamID, Form: form, Choices: choices, Hint: hint, SubmitID: submitID, Submit: submit}
		},
	}
}
