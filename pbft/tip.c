/* Setting the committed tip's certificate after a restart. */
#include <string.h>

#include "pbft/pbft_internal.h"

void
pbft_set_tip_cert(struct pbft *p, uint64_t cert_view, const struct pbft_vote *cert, uint32_t ncert)
{
	p->cert_view = cert_view;
	p->ncert = ncert > p->cfg.n ? p->cfg.n : ncert;
	memcpy(p->cert, cert, p->ncert * sizeof(*cert));
}

void
pbft_resume(struct pbft *p, uint64_t now_ms)
{
	if (now_ms > p->now)
		p->now = now_ms;
	if (!p->in_vc && p->pp_vote.has && p->pp_vote.view == p->view &&
	    p->pp_vote.height == p->height + 1 && pbft_primary(p->view, p->cfg.n) == p->cfg.self)
		pbft_start_view_change(p, p->view + 1);
}
