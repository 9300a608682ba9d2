// Trunkline console: plain JavaScript, no build step. Pages are rendered by the server; this
// file wires their controls to the JSON API. Requests carry the HttpOnly key cookie (sent by
// the browser) and, when they change something, the X-CSRF-Token header echoing the
// trunkline_csrf cookie (double submit).
"use strict";

(function () {
  const REASONS = JSON.parse(document.body.dataset.reasons || "{}");
  const DEMO = document.body.dataset.demoMode === "true";
  const POLL_MS = 1500;
  const POLL_LIMIT_MS = 10 * 60 * 1000;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)trunkline_csrf=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function api(method, url, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      return { ok: false, status: 0, data: { code: "network", detail: String(err) } };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    return {
      ok: response.ok,
      status: response.status,
      data: data || {},
      retryAfter: response.headers.get("Retry-After"),
    };
  }

  function retrySeconds(result) {
    const fromHeader = parseInt(result.retryAfter || "", 10);
    if (!Number.isNaN(fromHeader)) return fromHeader;
    const fromBody = parseInt(result.data.retry_after || "", 10);
    return Number.isNaN(fromBody) ? null : fromBody;
  }

  function reasonsText(reasons) {
    return (reasons || []).map((r) => REASONS[r] || r).join(" ");
  }

  // Where a checked destination is: "US · CA · America/Los_Angeles · mobile" (country, region,
  // first candidate time zone, and the line type when a lookup told it).
  function whereText(destination) {
    if (!destination) return "";
    const d = destination;
    return [d.country_code, d.region, (d.time_zones || [])[0], d.line_type].filter(Boolean).join(" · ");
  }

  // When a call refused for the time of day is allowed again, in the callee's time zone when
  // it is known, else in the browser's own; the zone is named either way. The ISO instant if
  // the browser cannot format it.
  function allowedAgainText(instant, zone) {
    try {
      const shown = zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
      const when = new Intl.DateTimeFormat(undefined, {
        dateStyle: "full",
        timeStyle: "short",
        timeZone: shown,
      }).format(new Date(instant));
      return `Allowed again from ${when} (${shown}).`;
    } catch (err) {
      return `Allowed again from ${instant}.`;
    }
  }

  // What the console calls the API's fields, for messages that would otherwise name them.
  const FIELD_LABELS = {
    name: "Name",
    e164: "Number",
    from_e164: "Caller ID",
    from: "Caller ID",
    to: "Destination",
    code: "Code",
    number_id: "Number",
    provider: "Provider",
    country: "Country",
  };

  // A problem's detail without the API's field names: "e164: '+1' is not..." reads
  // "'+1' is not...", and a validation error lists the fields by their labels.
  function problemDetail(p) {
    if (p.code === "validation_error" && Array.isArray(p.errors) && p.errors.length) {
      return p.errors
        .map((e) => {
          const label = FIELD_LABELS[e.field] || "This request";
          return `${label}: ${e.message || "is not valid"}`;
        })
        .join(" ");
    }
    let detail = p.detail || p.title || "";
    if (p.field && detail.startsWith(`${p.field}: `)) detail = detail.slice(p.field.length + 2);
    return detail;
  }

  // A problem document (RFC 9457) in words an operator understands.
  function problemText(result) {
    const p = result.data || {};
    const detail = problemDetail(p);
    const seconds = retrySeconds(result);
    const wait = seconds ? ` Try again in ${seconds} second${seconds === 1 ? "" : "s"}.` : " Try again later.";
    const carrier = p.provider ? `The carrier (${p.provider})` : "The carrier";
    const theirs = p.provider_code ? ` [carrier code ${p.provider_code}]` : "";
    switch (p.code) {
      case "network":
        return "The console could not reach the server. Check your connection and try again.";
      case "rate_limited":
        return "Too many verification attempts." + wait;
      case "provider_rate_limited":
        return `${carrier} is limiting requests right now.` + wait;
      case "provider_unavailable":
        return `${carrier} is unavailable: ${detail}${theirs}`;
      case "provider_rejected":
        return `${carrier} refused the request: ${detail}${theirs}`;
      case "provider_auth_failed":
        return `${carrier} refused the credentials configured for it.${theirs}`;
      case "provider_error":
        return `${carrier} answered with an error: ${detail}${theirs}`;
      case "provider_not_configured":
        return `This carrier is not configured: ${detail}`;
      case "demo_mode":
        return "Demo mode is on: telephony is off.";
      case "csrf_failed":
        return "This page's security token is missing or stale: reload the page and try again.";
      case "unauthorized":
        return "Your session has ended: sign in again.";
      case "outbound_not_allowed":
        // the problem names no destination zone: the browser's own is shown, and named
        return `Refused: ${reasonsText(p.reasons) || detail}` +
          (p.next_allowed_at ? ` ${allowedAgainText(p.next_allowed_at)}` : "");
      case "validation_error":
        if (p.errors && p.errors.length) {
          return "Invalid: " + p.errors.map((e) => (e.field ? `${e.field}: ` : "") + e.message).join("; ");
        }
        return detail;
      default:
        if (p.reasons && p.reasons.length) return `${detail} — ${reasonsText(p.reasons)}`;
        if (p.title && detail && p.title !== detail) return `${p.title}: ${detail}`;
        return detail || `The server answered ${result.status}.`;
    }
  }

  const FINAL_CALL_STATUSES = ["completed", "busy", "failed", "no-answer"];

  // Poll GET /calls/{id} until the call ends (or ten minutes pass); onStatus(call) on each
  // change of status.
  function followCall(callId, onStatus) {
    const started = Date.now();
    let last = null;
    async function tick() {
      const r = await api("GET", `/calls/${callId}`);
      if (r.ok && r.data.status !== last) {
        last = r.data.status;
        onStatus(r.data);
      }
      if (r.ok && FINAL_CALL_STATUSES.includes(r.data.status)) return;
      if (!r.ok && r.status !== 0 && r.status !== 429 && r.status < 500) return;
      if (Date.now() - started > POLL_LIMIT_MS) return;
      setTimeout(tick, POLL_MS);
    }
    setTimeout(tick, POLL_MS);
  }

  function show(el, text) {
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
  }

  // A field's error under it, with aria-invalid on the field; no text clears both.
  function fieldError(input, box, text) {
    show(box, text);
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function container(el) {
    return el.closest("tr") || el.closest("section") || document;
  }

  // -- NumbersRowActions: Verify CLI ----------------------------------------------------------

  function initRowActions(root) {
    const button = root.querySelector("button.verify-cli");
    if (!button) return;
    const numberId = root.dataset.numberId;
    const panel = root.querySelector(".verify-panel");
    const message = panel.querySelector(".verify-message");
    const codeBox = panel.querySelector(".verify-code");
    const sentBox = panel.querySelector(".verify-sent-code");
    const detailBox = panel.querySelector(".verify-detail");
    const codeForm = panel.querySelector(".verify-code-form");
    const errorBox = panel.querySelector(".verify-error");
    let polling = null;
    let cooldown = null;

    function setStatusCell(status, label) {
      const scope = container(root);
      const cell = scope.querySelector('[data-field="verification"]');
      if (cell) {
        cell.textContent = label;
        cell.dataset.status = status;
      }
    }

    function verified() {
      stopPolling();
      setStatusCell("verified", "Verified");
      show(codeBox, "");
      codeBox.hidden = true;
      show(detailBox, "");
      codeForm.hidden = true;
      show(errorBox, "");
      message.textContent = "Caller ID verified. You may now enable outbound calls for this number.";
      button.hidden = true;
      // BindControls of this number (on its page) may now turn outbound on.
      document
        .querySelectorAll(`form[data-component="bind-controls"][data-number-id="${numberId}"]`)
        .forEach((form) => {
          const box = form.querySelector('input[name="outbound_enabled"]');
          box.disabled = false;
          box.removeAttribute("aria-describedby");
          const reason = form.querySelector(".reason");
          if (reason) reason.hidden = true;
        });
    }

    function stopPolling() {
      if (polling) clearTimeout(polling);
      polling = null;
    }

    function poll(started) {
      polling = setTimeout(async () => {
        const r = await api("GET", `/settings/telephony/numbers/${numberId}`);
        if (r.ok && r.data.verified_cli) return verified();
        if (r.ok && r.data.verification_status === "failed") {
          stopPolling();
          setStatusCell("failed", "Failed");
          codeBox.hidden = true;
          message.textContent = "";
          show(errorBox, "The carrier reports that the verification failed. Press Verify CLI to start again.");
          button.disabled = false;
          return;
        }
        if (!r.ok && r.status !== 0 && r.status !== 429 && r.status < 500) {
          stopPolling();
          show(errorBox, problemText(r));
          button.disabled = false;
          return;
        }
        if (Date.now() - started > POLL_LIMIT_MS) {
          stopPolling();
          message.textContent = "Still waiting for the carrier. Press Verify CLI to check again.";
          button.disabled = false;
          return;
        }
        poll(started);
      }, POLL_MS);
    }

    function rateLimited(r) {
      let seconds = retrySeconds(r) || 60;
      show(errorBox, problemText(r));
      button.disabled = true;
      if (cooldown) clearInterval(cooldown);
      cooldown = setInterval(() => {
        seconds -= 1;
        if (seconds <= 0) {
          clearInterval(cooldown);
          cooldown = null;
          button.disabled = DEMO;
          show(errorBox, "");
        }
      }, 1000);
    }

    function attemptsText(left) {
      return `${left} attempt${left === 1 ? "" : "s"} left.`;
    }

    function answer(r, submitted) {
      // A refusal replaces the progress message: nothing is "starting" beside a 429 or 503.
      if (!r.ok) message.textContent = "";
      if (r.status === 429) return rateLimited(r);
      if (!r.ok) {
        show(errorBox, problemText(r));
        button.disabled = DEMO;
        if (r.data.code === "no_pending_verification") codeForm.hidden = true;
        return;
      }
      const v = r.data;
      show(errorBox, "");
      if (v.verified_cli || v.status === "verified") return verified();
      if (v.status === "failed") {
        setStatusCell("failed", "Failed");
        codeForm.hidden = true;
        sentBox.hidden = true;
        message.textContent = "";
        show(errorBox, v.detail ? `Verification failed: ${v.detail}` : "Verification failed.");
        button.disabled = false;
        return;
      }
      setStatusCell("pending", "Pending");
      if (submitted && v.next_step === "submit_code") {
        // Still pending after a code: the carrier did not accept it; the field stays open.
        const left = typeof v.attempts_left === "number" ? ` ${attemptsText(v.attempts_left)}` : "";
        message.textContent = "Type the code again.";
        show(errorBox, (v.detail ? `That code was not accepted: ${v.detail}` : "That code was not accepted. Check it and try again.") + left);
        codeForm.hidden = false;
        const input = codeForm.querySelector("input");
        input.select();
        input.focus();
        return;
      }
      // The carrier's words; a refusal's words go to the alert instead.
      show(detailBox, v.detail || "");
      if (v.next_step === "answer_call_and_enter_code") {
        codeForm.hidden = true;
        codeBox.hidden = false;
        codeBox.querySelector(".display-code").textContent = v.display_code || "";
        message.textContent = "The carrier is calling this number. Waiting for the call to be answered…";
        button.disabled = true;
        stopPolling();
        poll(Date.now());
      } else if (v.next_step === "submit_code") {
        codeBox.hidden = true;
        // A simulated carrier (the sandbox) shows the code its SMS carried.
        sentBox.hidden = !v.display_code;
        sentBox.querySelector(".sent-code").textContent = v.display_code || "";
        codeForm.hidden = false;
        message.textContent = "A code was sent to this number. Type it below.";
        button.disabled = false;
        codeForm.querySelector("input").focus();
      } else {
        message.textContent = "Verification is pending with the carrier.";
        button.disabled = false;
        stopPolling();
        poll(Date.now());
      }
    }

    button.addEventListener("click", async () => {
      button.disabled = true;
      show(errorBox, "");
      message.textContent = "Starting verification…";
      const r = await api("POST", "/settings/telephony/numbers/verify-cli", { number_id: numberId });
      answer(r, false);
    });

    codeForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = codeForm.querySelector("input");
      const code = input.value.trim();
      if (!code) {
        show(errorBox, "Type the code you received.");
        input.focus();
        return;
      }
      const submit = codeForm.querySelector("button");
      submit.disabled = true;
      message.textContent = "Checking the code…";
      const r = await api("POST", "/settings/telephony/numbers/verify-cli", {
        number_id: numberId,
        code,
      });
      submit.disabled = false;
      if (!r.ok) message.textContent = "";
      answer(r, true);
    });
  }

  // -- BindControls ---------------------------------------------------------------------------

  const VERIFICATION_LABELS = {
    none: "Not verified",
    pending: "Pending",
    verified: "Verified",
    failed: "Failed",
  };

  // The number's summary and BindControls redrawn from the server's answer (a number object).
  function refreshNumber(form, n) {
    const label = n.hosted
      ? "Not needed (hosted)"
      : n.verified_cli
        ? "Verified"
        : VERIFICATION_LABELS[n.verification_status] || n.verification_status;
    document.querySelectorAll('[data-field="verification"]').forEach((cell) => {
      cell.textContent = label;
      cell.dataset.status = n.verification_status;
    });
    document.querySelectorAll('[data-field="outbound"]').forEach((cell) => {
      cell.textContent = n.outbound_enabled ? "On" : "Off";
    });
    document.querySelectorAll('[data-field="inbound"]').forEach((cell) => {
      cell.textContent = n.inbound_enabled ? "On" : "Off";
    });
    const outbound = form.elements.outbound_enabled;
    outbound.checked = n.outbound_enabled;
    form.elements.inbound_enabled.checked = n.inbound_enabled;
    if (!n.caller_id_allowed) {
      outbound.disabled = !n.outbound_enabled;
      let reason = form.querySelector(".reason");
      if (!reason) {
        reason = document.createElement("p");
        reason.className = "reason";
        reason.id = `outbound-reason-${n.id}`;
        reason.dataset.reason = "caller_id_not_allowed";
        reason.textContent = REASONS.caller_id_not_allowed || "";
        outbound.closest(".check").after(reason);
      }
      reason.hidden = false;
      outbound.setAttribute("aria-describedby", reason.id);
    }
  }

  function initBindControls(form) {
    const numberId = form.dataset.numberId;
    const status = form.querySelector(".bind-status");
    const errorBox = form.querySelector(".bind-error");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = (name) => form.elements[name].value.trim() || null;
      const body = {
        inbound_enabled: form.elements.inbound_enabled.checked,
        inbound_agent_id: value("inbound_agent_id"),
        outbound_enabled: form.elements.outbound_enabled.checked,
        outbound_agent_id: value("outbound_agent_id"),
        allowed_countries: countryList(form.elements.allowed_countries.value),
      };
      const submit = form.querySelector('button[type="submit"]');
      submit.disabled = true;
      status.textContent = "Saving…";
      show(errorBox, "");
      const r = await api("PATCH", `/settings/telephony/numbers/${numberId}`, body);
      submit.disabled = false;
      if (!r.ok) {
        status.textContent = "";
        show(errorBox, problemText(r));
        errorBox.focus();
        // a refusal from a stale page: show what the server holds now, so that the summary
        // agrees with the alert
        if (r.status === 409) {
          const now = await api("GET", `/settings/telephony/numbers/${numberId}`);
          if (now.ok) refreshNumber(form, now.data);
        }
        return;
      }
      status.textContent = "Binding saved.";
      const n = r.data;
      const scope = document;
      const outbound = scope.querySelector('[data-field="outbound"]');
      if (outbound) outbound.textContent = n.outbound_enabled ? "On" : "Off";
      const inbound = scope.querySelector('[data-field="inbound"]');
      if (inbound) inbound.textContent = n.inbound_enabled ? "On" : "Off";
    });
    const errorBoxFocusable = form.querySelector(".bind-error");
    if (errorBoxFocusable) errorBoxFocusable.tabIndex = -1;
  }

  // -- Outbound policy (SettingsTelephony) -------------------------------------------------------

  function countryList(text) {
    return text.split(/[\s,;]+/).map((c) => c.trim()).filter(Boolean);
  }

  function windowList(text) {
    // "mon,tue 09:00-18:00" per line -> [{days, start, end}]; a malformed line throws
    return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const m = line.match(/^([a-z,\s]+?)\s+(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$/i);
      if (!m) throw new Error(`"${line}": write days then start-end, such as mon,tue 09:00-18:00`);
      return { days: countryList(m[1]).map((d) => d.toLowerCase()), start: m[2], end: m[3] };
    });
  }

  function initOutboundPolicy(form) {
    const status = form.querySelector(".policy-status");
    const errorBox = form.querySelector(".policy-error");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      show(errorBox, "");
      let body;
      try {
        body = {
          allowed_countries: countryList(form.elements.allowed_countries.value),
          calling_hours: form.elements.calling_hours.checked
            ? {
                rules: Array.from(form.querySelectorAll('input[name="rule"]:checked')).map((i) => i.value),
                windows: windowList(form.elements.windows.value),
              }
            : null,
          min_attestation: form.elements.min_attestation.value || null,
          lookup: {
            enabled: form.elements.lookup_enabled.checked,
            deny_line_types: Array.from(form.querySelectorAll('input[name="deny_line_type"]:checked')).map((i) => i.value),
            check_reassigned: form.elements.check_reassigned.checked,
          },
        };
      } catch (err) {
        show(errorBox, err.message);
        errorBox.focus();
        return;
      }
      const submit = form.querySelector('button[type="submit"]');
      submit.disabled = true;
      status.textContent = "Saving…";
      const r = await api("PUT", "/settings/telephony/outbound-policy", body);
      submit.disabled = false;
      if (!r.ok) {
        status.textContent = "";
        show(errorBox, problemText(r));
        errorBox.focus();
        return;
      }
      form.elements.allowed_countries.value = r.data.allowed_countries.join(", ");
      status.textContent = "Outbound policy saved.";
    });
  }

  // -- Numbers: add a bring-your-own number ----------------------------------------------------

  function initAddNumber(form) {
    const status = form.querySelector(".result");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const e164 = form.elements.e164.value.trim();
      if (!e164) {
        status.textContent = "Type the number in E.164 form, such as +14155550100.";
        form.elements.e164.setAttribute("aria-invalid", "true");
        form.elements.e164.focus();
        return;
      }
      const r = await api("POST", "/settings/telephony/numbers", {
        e164,
        provider: form.elements.provider.value,
      });
      if (!r.ok) {
        status.textContent = problemText(r);
        form.elements.e164.setAttribute("aria-invalid", "true");
        form.elements.e164.focus();
        return;
      }
      status.textContent = `Added ${r.data.phone_e164}.`;
      window.location.reload();
    });
  }

  // -- CampaignCreateDialog ---------------------------------------------------------------------

  function initCampaignDialog(dialog) {
    const form = dialog.querySelector("#campaign-form");
    const callForm = dialog.querySelector("#test-call-form");
    const select = form.elements.from_e164;
    const hint = dialog.querySelector("#campaign-from-hint");
    const title = dialog.querySelector("#campaign-dialog-title");
    const defaultHint = hint.textContent;
    let campaignId = null;
    let created = false;

    function clearErrors() {
      dialog.querySelectorAll(".field-error, .form-error").forEach((el) => show(el, ""));
      dialog.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    }

    function updateHint() {
      const option = select.selectedOptions[0];
      if (option && option.dataset.allowed === "false") {
        hint.textContent = `${option.value} is not allowed as caller ID: ${option.dataset.reason}`;
      } else {
        hint.textContent = defaultHint;
      }
    }
    select.addEventListener("change", updateHint);

    const blockedBox = dialog.querySelector("#test-call-blocked");
    const placeButton = dialog.querySelector("#place-test-call");

    // The console does not offer a call it knows the policy refuses: the reason is shown and
    // the button stays disabled.
    function block(reason) {
      show(blockedBox, reason || "");
      placeButton.disabled = DEMO || Boolean(reason);
      if (reason) placeButton.setAttribute("aria-describedby", "test-call-blocked");
      else placeButton.removeAttribute("aria-describedby");
    }

    function open(step, campaign) {
      clearErrors();
      form.reset();
      callForm.reset();
      callForm.querySelector(".call-result").textContent = "";
      updateHint();
      if (step === "call") {
        campaignId = campaign.id;
        title.textContent = "Test call";
        form.hidden = true;
        callForm.hidden = false;
        callForm.querySelector(".created").textContent = campaign.from
          ? `Campaign “${campaign.name}” calls from ${campaign.from}.`
          : `Campaign “${campaign.name}” has no caller ID yet.`;
        block(campaign.blocked);
      } else {
        campaignId = null;
        title.textContent = "New campaign";
        form.hidden = false;
        callForm.hidden = true;
      }
      dialog.showModal();
      (step === "call" ? callForm.elements.to : form.elements.name).focus();
    }

    document.getElementById("new-campaign").addEventListener("click", () => open("create"));
    document.querySelectorAll("button.open-test-call").forEach((b) =>
      b.addEventListener("click", () =>
        open("call", {
          id: b.dataset.campaignId,
          name: b.dataset.name,
          from: b.dataset.from,
          blocked: b.dataset.blocked,
        })
      )
    );
    dialog.querySelectorAll(".close-dialog").forEach((b) =>
      b.addEventListener("click", () => dialog.close())
    );
    dialog.addEventListener("close", () => {
      if (created) window.location.reload();
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors();
      const name = form.elements.name.value.trim();
      if (!name) {
        fieldError(form.elements.name, dialog.querySelector("#campaign-name-error"), "Give the campaign a name.");
        form.elements.name.focus();
        return;
      }
      const body = { name };
      if (select.value) body.from_e164 = select.value;
      const submit = form.querySelector('button[type="submit"]');
      submit.disabled = true;
      const r = await api("POST", "/campaigns", body);
      submit.disabled = false;
      if (!r.ok) {
        const p = r.data;
        // a field's refusal reads best in the server's own detail; the rest in words
        const text = p.field && p.detail ? problemDetail(p) : problemText(r);
        const nameBox = dialog.querySelector("#campaign-name-error");
        const fromBox = dialog.querySelector("#campaign-from-error");
        const fields = (p.errors || []).map((e) => e.field).concat(p.field ? [p.field] : []);
        const codeText = `${text} (${p.code || r.status})`;
        if (fields.some((f) => f === "name")) {
          fieldError(form.elements.name, nameBox, codeText);
          form.elements.name.focus();
        } else if (fields.some((f) => f === "e164" || f === "from_e164")) {
          fieldError(select, fromBox, codeText);
          select.focus();
        } else {
          show(form.querySelector(".form-error"), codeText);
        }
        return;
      }
      created = true;
      campaignId = r.data.id;
      title.textContent = "Campaign created";
      form.hidden = true;
      callForm.hidden = false;
      callForm.querySelector(".created").textContent = r.data.from_e164
        ? `Campaign “${r.data.name}” created with caller ID ${r.data.from_e164}.`
        : `Campaign “${r.data.name}” created without a caller ID.`;
      const warnings = (r.data.warnings || []).map((w) => w.detail).join(" ");
      block(
        !r.data.from_e164
          ? "This campaign has no caller ID: set one (Edit) before placing a test call."
          : warnings && `Its caller ID is refused: ${warnings}`
      );
      if (!placeButton.disabled) callForm.elements.to.focus();
    });

    callForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors();
      const result = callForm.querySelector(".call-result");
      result.textContent = "";
      const to = callForm.elements.to.value.trim();
      const toBox = dialog.querySelector("#test-call-to-error");
      if (!to) {
        fieldError(callForm.elements.to, toBox, "Type the number to call, such as +14155550199.");
        callForm.elements.to.focus();
        return;
      }
      if (placeButton.disabled) return;
      placeButton.disabled = true;
      result.textContent = "Placing the call…";
      const r = await api("POST", `/campaigns/${campaignId}/test-call`, { to });
      placeButton.disabled = DEMO;
      if (!r.ok) {
        result.textContent = "";
        const p = r.data;
        const text = `${problemText(r)} (${p.code || r.status})`;
        const fields = (p.errors || []).map((e) => e.field).concat(p.field ? [p.field] : []);
        if (fields.includes("to")) {
          fieldError(callForm.elements.to, toBox, text);
          callForm.elements.to.focus();
        } else {
          show(callForm.querySelector(".form-error"), text);
        }
        return;
      }
      const placed = (call) =>
        `Test call placed from ${call.from_e164} to ${call.to_e164}: ${call.status} (carrier call ${call.provider_call_id}).`;
      result.textContent = placed(r.data);
      followCall(r.data.id, (call) => {
        result.textContent = placed(call);
      });
    });
  }

  // -- Destination check: a pasted list through POST /outbound/check/batch --------------------

  const BATCH_MAX = 1000;

  function initDestinationCheck(section) {
    const form = section.querySelector("#check-form");
    const table = section.querySelector("#check-results");
    const body = table.querySelector("tbody");
    const summary = section.querySelector(".check-summary");
    const toBox = section.querySelector("#check-to-error");

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      show(toBox, "");
      show(form.querySelector(".form-error"), "");
      const from = form.elements.from.value;
      const list = form.elements.to.value.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
      if (!list.length || list.length > BATCH_MAX) {
        show(toBox, list.length ? `At most ${BATCH_MAX} destinations at once (${list.length} given).`
          : "Paste at least one destination, such as +442079460000.");
        form.elements.to.setAttribute("aria-invalid", "true");
        form.elements.to.focus();
        return;
      }
      form.elements.to.removeAttribute("aria-invalid");
      const submit = form.querySelector('button[type="submit"]');
      submit.disabled = true;
      summary.textContent = "Checking…";
      const r = await api("POST", "/outbound/check/batch", { checks: list.map((to) => ({ from, to })) });
      submit.disabled = false;
      if (!r.ok) {
        summary.textContent = "";
        show(form.querySelector(".form-error"), `${problemText(r)} (${r.data.code || r.status})`);
        return;
      }
      body.replaceChildren();
      let allowed = 0;
      r.data.results.forEach((result, i) => {
        const row = document.createElement("tr");
        const dest = document.createElement("th");
        dest.scope = "row";
        dest.dataset.label = "Destination";
        dest.textContent = list[i];
        const where = document.createElement("td");
        where.dataset.label = "Where";
        const answer = document.createElement("td");
        answer.dataset.label = "Answer";
        const why = document.createElement("td");
        why.dataset.label = "Why";
        if (result.error) {
          answer.textContent = "Not checked";
          why.textContent = `${result.error.detail} (${result.error.code})`;
        } else {
          if (result.allowed) allowed += 1;
          where.textContent = whereText(result.destination);
          answer.textContent = result.allowed ? "Allowed" : "Refused";
          const zone = ((result.destination || {}).time_zones || [])[0];
          why.textContent = [
            reasonsText(result.reasons),
            result.next_allowed_at ? allowedAgainText(result.next_allowed_at, zone) : "",
          ].filter(Boolean).join(" ");
        }
        row.append(dest, where, answer, why);
        body.appendChild(row);
      });
      table.hidden = false;
      summary.textContent = `${allowed} of ${list.length} destinations allowed.`;
    });
  }

  window.Trunkline = { api, problemText, problemDetail, show, fieldError, followCall, DEMO };

  document.querySelectorAll('[data-component="row-actions"]').forEach(initRowActions);
  document.querySelectorAll('[data-component="destination-check"]').forEach(initDestinationCheck);
  document.querySelectorAll('[data-component="bind-controls"]').forEach(initBindControls);
  document.querySelectorAll('[data-component="outbound-policy"]').forEach(initOutboundPolicy);
  document.querySelectorAll('[data-component="add-number"]').forEach(initAddNumber);
  document.querySelectorAll('[data-component="campaign-dialog"]').forEach(initCampaignDialog);
})();
