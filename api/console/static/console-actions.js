// Trunkline console: the steps that ask before they act (buying a number, removing a number,
// deleting a campaign), campaign editing, and following calls until they end. Uses the helpers
// console.js exposes as window.Trunkline (loaded first).
"use strict";

(function () {
  const T = window.Trunkline;
  if (!T) return;

  function openDialog(dialog, focus) {
    dialog.showModal();
    if (focus) focus.focus();
  }

  function closers(dialog) {
    dialog.querySelectorAll(".close-dialog").forEach((b) =>
      b.addEventListener("click", () => dialog.close())
    );
  }

  // -- SettingsTelephony: a purchase is confirmed with the carrier's price first ---------------

  function initPurchaseConfirm(dialog) {
    const summary = dialog.querySelector(".purchase-summary");
    const price = dialog.querySelector(".purchase-price");
    const confirm = dialog.querySelector("#confirm-purchase");
    const errorBox = dialog.querySelector(".form-error");
    let button = null;
    closers(dialog);

    document.querySelectorAll("button.purchase").forEach((b) =>
      b.addEventListener("click", () => {
        button = b;
        const d = b.dataset;
        summary.textContent = `Buy ${d.e164} from ${d.providerName || d.provider}?`;
        const upfront = d.upfront && Number(d.upfront) > 0 ? `, plus ${d.upfront} ${d.currency} upfront` : "";
        price.textContent = d.monthly
          ? `The carrier charges ${d.monthly} ${d.currency} a month${upfront}. Trunkline adds nothing (zero markup).`
          : "The carrier did not state a price for this number.";
        confirm.textContent = d.monthly ? `Buy for ${d.monthly} ${d.currency}/month` : "Buy";
        T.show(errorBox, "");
        confirm.disabled = false;
        openDialog(dialog, confirm);
      })
    );

    confirm.addEventListener("click", async () => {
      if (!button) return;
      confirm.disabled = true;
      T.show(errorBox, "");
      const result = button.parentElement.querySelector(".result");
      const r = await T.api("POST", "/settings/telephony/numbers/purchase", {
        provider: button.dataset.provider,
        e164: button.dataset.e164,
      });
      if (!r.ok) {
        confirm.disabled = false;
        T.show(errorBox, T.problemText(r));
        return;
      }
      dialog.close();
      result.textContent = "";
      const link = document.createElement("a");
      link.href = `/console/numbers/${r.data.id}`;
      link.textContent = `Bought ${r.data.phone_e164}: open it`;
      result.appendChild(link);
      button.textContent = "Bought";
      button.disabled = true;
      link.focus();
    });
  }

  // -- A number: delete (bring your own) or release (hosted), after a confirmation -------------

  function initNumberRemove(root) {
    const dialog = root.querySelector("dialog");
    const confirm = dialog.querySelector(".confirm-remove");
    const errorBox = dialog.querySelector(".form-error");
    closers(dialog);
    root.querySelector(".open-remove").addEventListener("click", () => {
      T.show(errorBox, "");
      confirm.disabled = false;
      openDialog(dialog, dialog.querySelector(".close-dialog.secondary"));
    });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      const r = await T.api("DELETE", `/settings/telephony/numbers/${root.dataset.numberId}`);
      if (!r.ok && r.status !== 204) {
        confirm.disabled = false;
        T.show(errorBox, T.problemText(r));
        return;
      }
      const params = new URLSearchParams({ removed: root.dataset.e164, how: root.dataset.how });
      window.location.assign(`/console/numbers?${params}`);
    });
  }

  // -- CampaignEditDialog ---------------------------------------------------------------------

  function initCampaignEdit(dialog) {
    const form = dialog.querySelector("#campaign-edit-form");
    const select = form.elements.from_e164;
    const hint = dialog.querySelector("#edit-campaign-from-hint");
    const defaultHint = hint.textContent;
    const confirmBox = dialog.querySelector("#campaign-delete-confirm");
    const question = dialog.querySelector("#campaign-delete-question");
    const nameBox = dialog.querySelector("#edit-campaign-name-error");
    const fromBox = dialog.querySelector("#edit-campaign-from-error");
    const formError = form.querySelector(".form-error");
    let campaign = null;
    let changed = false;
    closers(dialog);
    dialog.addEventListener("close", () => {
      if (changed) window.location.reload();
    });

    const fieldError = T.fieldError;

    function updateHint() {
      const option = select.selectedOptions[0];
      hint.textContent =
        option && option.dataset.allowed === "false"
          ? `${option.value} is not allowed as caller ID: ${option.dataset.reason}`
          : defaultHint;
    }
    select.addEventListener("change", updateHint);

    document.querySelectorAll("button.open-edit-campaign").forEach((b) =>
      b.addEventListener("click", () => {
        campaign = { id: b.dataset.campaignId, name: b.dataset.name, from: b.dataset.from };
        form.reset();
        form.hidden = false;
        confirmBox.hidden = true;
        fieldError(form.elements.name, nameBox, "");
        fieldError(select, fromBox, "");
        T.show(formError, "");
        form.querySelector(".edit-result").textContent = "";
        form.elements.name.value = campaign.name;
        select.value = campaign.from || "";
        if (select.value !== (campaign.from || "")) select.value = "";
        updateHint();
        openDialog(dialog, form.elements.name);
      })
    );

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      fieldError(form.elements.name, nameBox, "");
      fieldError(select, fromBox, "");
      T.show(formError, "");
      const name = form.elements.name.value.trim();
      if (!name) {
        fieldError(form.elements.name, nameBox, "Give the campaign a name.");
        form.elements.name.focus();
        return;
      }
      const submit = form.querySelector('button[type="submit"]');
      submit.disabled = true;
      try {
        if (name !== campaign.name) {
          const r = await T.api("PATCH", `/campaigns/${campaign.id}`, { name });
          if (!r.ok) {
            fieldError(form.elements.name, nameBox, T.problemText(r));
            form.elements.name.focus();
            return;
          }
          campaign.name = r.data.name;
          changed = true;
        }
        const from = select.value || null;
        if (from !== (campaign.from || null)) {
          const r = await T.api("PATCH", `/campaigns/${campaign.id}/from_number`, { e164: from });
          if (!r.ok) {
            const p = r.data || {};
            fieldError(select, fromBox, `${p.field ? T.problemDetail(p) : T.problemText(r)} (${p.code || r.status})`);
            select.focus();
            return;
          }
          campaign.from = r.data.from_e164 || "";
          changed = true;
        }
        form.querySelector(".edit-result").textContent = changed
          ? `Saved: “${campaign.name}”, ${campaign.from ? `caller ID ${campaign.from}` : "no caller ID"}.`
          : "Nothing to save.";
      } finally {
        submit.disabled = false;
      }
    });

    dialog.querySelector("#delete-campaign").addEventListener("click", () => {
      question.textContent = `Delete the campaign “${campaign.name}”? Its calls stay in the calls list and the audit trail keeps its history.`;
      T.show(dialog.querySelector(".delete-error"), "");
      form.hidden = true;
      confirmBox.hidden = false;
      dialog.querySelector("#cancel-delete-campaign").focus();
    });
    dialog.querySelector("#cancel-delete-campaign").addEventListener("click", () => {
      confirmBox.hidden = true;
      form.hidden = false;
      dialog.querySelector("#delete-campaign").focus();
    });
    dialog.querySelector("#confirm-delete-campaign").addEventListener("click", async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      const r = await T.api("DELETE", `/campaigns/${campaign.id}`);
      button.disabled = false;
      if (!r.ok && r.status !== 204) {
        T.show(dialog.querySelector(".delete-error"), T.problemText(r));
        return;
      }
      changed = true;
      dialog.close();
    });
  }

  // -- Calls: follow each call still in progress ------------------------------------------------

  function followCalls(table) {
    const live = document.getElementById("calls-live");
    table.querySelectorAll('[data-follow="true"]').forEach((chip) => {
      const row = chip.closest("tr");
      T.followCall(row.dataset.callId, (call) => {
        chip.textContent = call.status.replace("-", " ");
        chip.dataset.status = call.status;
        chip.className = `chip call-status ${call.status}`;
        if (live) live.textContent = `Call to ${call.to_e164}: ${call.status.replace("-", " ")}.`;
      });
    });
  }

  const purchase = document.getElementById("purchase-dialog");
  if (purchase) initPurchaseConfirm(purchase);
  document.querySelectorAll('[data-component="number-remove"]').forEach(initNumberRemove);
  document.querySelectorAll('[data-component="campaign-edit-dialog"]').forEach(initCampaignEdit);
  const calls = document.getElementById("calls-table");
  if (calls) followCalls(calls);
})();
