// PACS routing studies to you: receive tokens for a PACS, the rule (quality, engine,
// destination) and the receipts of what arrived. Shown on the account page.
import { api, describe, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { formatDate, h, toast } from "../ui/dom";

type Receipt = components["schemas"]["ReceiptPublic"];
type Rule = components["schemas"]["DicomRulePublic"];
type Token = components["schemas"]["TokenPublic"];

const STATES: Record<Receipt["state"], string> = {
  queued: "Processing",
  refused: "Refused",
  processed: "Processed",
  delivering: "Sending results",
  delivered: "Results sent",
  failed: "Failed",
};

/** One line about a received study: what became of it, and why when nothing did. */
export function receiptSummary(r: Receipt): string {
  const what = `${r.instances} instance${r.instances === 1 ? "" : "s"}`;
  const state = STATES[r.state];
  return r.reason ? `${state} (${what}): ${r.reason}` : `${state} (${what})`;
}

/** Whether the receipt offers "Send again": results made, their sending failed. */
export function canResend(r: Receipt): boolean {
  return r.state === "failed" && r.destination !== null && r.reason.startsWith("the results");
}

function receiptRow(r: Receipt, refresh: () => void): HTMLElement {
  const cells = [h("td", {}, formatDate(r.created_at)), h("td", {}, receiptSummary(r))];
  const action = h("td", {});
  if (r.study_id) action.append(h("a", { href: `/studies/${r.study_id}` }, "Open"));
  if (canResend(r)) {
    const again = h("button", { type: "button", class: "ghost small-button" }, "Send again");
    again.addEventListener("click", () => {
      void api.POST("/api/dicom/receipts/{receipt_id}/resend",
        { params: { path: { receipt_id: r.id } } })
        .then((x) => { if (!x.response.ok) toast(describe(x.response.status, x.error), "error"); refresh(); });
    });
    action.append(again);
  }
  return h("tr", { "data-receipt": r.id }, ...cells, action);
}

function tokenRow(t: Token, refresh: () => void): HTMLElement {
  const revoke = h("button", { type: "button", class: "ghost danger small-button" }, "Revoke");
  revoke.addEventListener("click", () => {
    void api.DELETE("/api/dicom/tokens/{token_id}", { params: { path: { token_id: t.id } } })
      .then(() => refresh());
  });
  return h("tr", { "data-receive-token": t.id }, h("td", {}, `“${t.name}”`),
    h("td", {}, t.last_used_at ? formatDate(t.last_used_at) : "—"),
    h("td", {}, formatDate(t.expires_at)), h("td", {}, revoke));
}

function ruleForm(rule: Rule, servers: { id: string; name: string }[]): HTMLElement {
  const option = (value: string, label: string, chosen: string | null | undefined): HTMLElement =>
    h("option", { value, ...(value === (chosen ?? "") ? { selected: true } : {}) }, label);
  const quality = h("select", { id: "rule-quality", "aria-label": "Quality" },
    ...["fastest", "fast", "normal", "high"].map((q) => option(q, q, rule.quality)));
  const engine = h("select", { id: "rule-engine", "aria-label": "Engine" },
    option("auto", "Automatic", rule.engine), option("totalsegmentator", "TotalSegmentator", rule.engine),
    option("tissue", "Tissue (built in)", rule.engine));
  const destination = h("select", { id: "rule-destination", "aria-label": "Send results to" },
    option("", "Keep results in Iris", rule.destination),
    ...servers.map((s) => option(s.id, `Send to ${s.name}`, rule.destination)));
  const form = h("form", { class: "row", id: "rule-form" }, quality, engine, destination,
    h("button", { type: "submit" }, "Save rule"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void api.PUT("/api/dicom/rule", { body: {
      quality: quality.value as Rule["quality"], engine: engine.value as Rule["engine"],
      destination: destination.value || null } })
      .then((r) => toast(r.response.ok ? "Rule saved." : describe(r.response.status, r.error),
        r.response.ok ? "info" : "error"));
  });
  return form;
}

/** The account page's "Studies from your PACS" section. */
export function receivingSection(): HTMLElement {
  const tokens = h("tbody", {});
  const receipts = h("tbody", {});
  const rule = h("div", {});
  const secret = h("p", { class: "muted", id: "new-receive-token" });
  const refresh = (): void => {
    void (async () => {
      try {
        const listed = unwrap(await api.GET("/api/dicom/tokens")).items;
        tokens.replaceChildren(...listed.map((t) => tokenRow(t, refresh)));
        const got = unwrap(await api.GET("/api/dicom/receipts")).items;
        receipts.replaceChildren(...got.map((r) => receiptRow(r, refresh)));
      } catch (e) { toast(e instanceof Error ? e.message : String(e), "error"); }
    })();
  };
  void (async () => {
    const servers = (await api.GET("/api/pacs/servers")).data?.items ?? [];
    const current = await api.GET("/api/dicom/rule");
    if (current.data) rule.replaceChildren(ruleForm(current.data, servers));
  })();
  const name = h("input", { id: "receive-token-name", placeholder: "Which PACS", maxlength: 100, required: true });
  const make = h("form", { class: "row", id: "receive-token-form" }, name,
    h("button", { type: "submit" }, "New receive token"));
  make.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      const made = await api.POST("/api/dicom/tokens", { body: { name: name.value.trim() } });
      if (!made.response.ok || !made.data) { toast(describe(made.response.status, made.error), "error"); return; }
      secret.textContent = `Give it to the PACS (STOW-RS to ${location.origin}/dicom-web); ` +
        `it is shown only once: ${made.data.secret}`;
      name.value = "";
      refresh();
    })();
  });
  refresh();
  return h("section", { class: "panel", id: "receiving" }, h("h2", {}, "Studies from your PACS"),
    h("p", { class: "muted" }, "A PACS can send studies to you; each is processed by this rule " +
      "once complete, and its DICOM results go where the rule says."),
    rule,
    h("table", { class: "stats" }, h("thead", {}, h("tr", {}, h("th", {}, "Receive token"),
      h("th", {}, "Last used"), h("th", {}, "Expires"), h("th", {}, ""))), tokens),
    make, secret,
    h("h3", {}, "Received"),
    h("table", { class: "stats" }, h("thead", {}, h("tr", {}, h("th", {}, "When"),
      h("th", {}, "What became of it"), h("th", {}, ""))), receipts));
}
