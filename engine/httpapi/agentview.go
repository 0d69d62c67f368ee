package httpapi

import (
	"context"
	"strings"

	"grace/engine"
	"grace/engine/clarity"
)

// othersRefusals are the records of attempts refused at the front door or
// by the engine. On an agent's own intent, those made by someone else (an
// agent that tried to read, cancel or approve it) are withheld from the
// agent: who else probes its work, and how, is for operators and viewers.
var othersRefusals = map[string]bool{
	engine.WhatRequestRefused:  true,
	engine.WhatApprovalRefused: true,
	engine.WhatDenialRefused:   true,
	engine.WhatReviewRefused:   true,
}

// agentMaySee reports whether agent may read e, a record of one of its
// own intents.
func agentMaySee(agent string, e clarity.Entry) bool {
	return !othersRefusals[e.What] || strings.EqualFold(e.Who, agent)
}

// agentPages is how many pages more an agent's narrative search reads to
// fill a page that withheld records left short.
const agentPages = 4

// agentPage is page (the answer to q) as agent may read it: others'
// refused attempts withheld. When that leaves a full page short, the
// next pages are read to fill it, up to agentPages more; a page still
// short then says where to read on (ResumeBefore), as a page the store
// stopped early does.
func (h *Handler) agentPage(ctx context.Context, agent string, q clarity.Query, page clarity.Page) (clarity.Page, error) {
	out := clarity.Page{ResumeBefore: page.ResumeBefore}
	keep := func(p clarity.Page) {
		for _, e := range p.Entries {
			if agentMaySee(agent, e) {
				out.Entries = append(out.Entries, e)
			}
		}
	}
	keep(page)
	for range agentPages {
		full := q.Limit > 0 && len(page.Entries) == q.Limit
		if len(out.Entries) >= q.Limit || !full || page.ResumeBefore != 0 || q.AfterID != 0 {
			break
		}
		q.BeforeID = page.Entries[len(page.Entries)-1].ID
		next, err := clarity.SearchPage(ctx, h.api, q)
		if err != nil {
			return clarity.Page{}, err
		}
		page = next
		out.ResumeBefore = page.ResumeBefore
		keep(page)
	}
	switch {
	case len(out.Entries) > q.Limit:
		out.Entries, out.ResumeBefore = out.Entries[:q.Limit], 0
	case len(out.Entries) < q.Limit && q.Limit > 0 && len(page.Entries) == q.Limit && out.ResumeBefore == 0 && q.AfterID == 0:
		out.ResumeBefore = page.Entries[len(page.Entries)-1].ID
	}
	return out, nil
}
