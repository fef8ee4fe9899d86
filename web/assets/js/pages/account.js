// Account (contract §20): export the account's data (a job, its progress pushed, a zip to download);
// delete the account for good, after a confirmation step.
import { api, followJob, session } from "../api.js";
import { forgetMe, state } from "../state.js";
import { fmtNumber, t } from "../i18n.js";
import { append, field, h, replace, showError } from "../ui.js";

export async function myAccountPage(main) {
  const local = state.config?.auth?.provider === "local";
  const errors = h("div");
  const step = h("div");
  const start = h("button.danger", { type: "button" }, t("account.deleteStart"));
  const who = state.user?.email || state.user?.clerk_id;
  append(main, h("h1", {}, t("nav.account")),
    h("p", {}, who ? [t("account.signedInAs"), " ", h("strong", { translate: "no" }, who)] : t("account.signedIn")),
    exportSection(),
    h("section.card", { "aria-labelledby": "delete-heading" },
      h("h2", { id: "delete-heading" }, t("account.deleteTitle")),
      h("p", {}, t("account.deleteText")),
      step, errors));
  replace(step, start);

  start.addEventListener("click", () => {
    const confirmText = h("input", { name: "confirm", autocomplete: "off", required: true, spellcheck: "false" });
    const password = local ? h("input", { name: "password", type: "password", autocomplete: "current-password", required: true }) : null;
    const cancel = h("button", { type: "button" }, t("account.keep"));
    const form = h("form", {}, field(t("account.typeDelete"), confirmText),
      password ? field(t("account.yourPassword"), password) : null,
      h("div.actions", {}, h("button.danger", { type: "submit" }, t("account.deleteForGood")), cancel));
    cancel.addEventListener("click", () => { replace(step, start); showError(errors, null); start.focus(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(errors, null);
      if (confirmText.value.trim() !== "DELETE") {
        showError(errors, { detail: t("account.typeDeleteError") });
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await api("/api/v1/me", { method: "DELETE", body: password ? { password: password.value } : undefined });
      } catch (error) {
        showError(errors, error);
        button.disabled = false;
        return;
      }
      forgetMe();
      session.token = null;  // the sessions are already ended: nothing to sign out of
      state.user = null;
      location.assign("/sign-in");
    });
    replace(step, form);
    confirmText.focus();
  });
}

/** The data export: a button that starts the job, its progress (pushed), then a download button. */
function exportSection() {
  const status = h("p", { role: "status", "aria-live": "polite" });
  const errors = h("div");
  const action = h("div.actions");
  const start = h("button", { type: "button" }, t("account.exportStart"));
  replace(action, start);

  const show = (job) => {
    if (job.status === "completed") {
      status.textContent = t("account.exportReady", { size: fmtNumber((job.size_bytes ?? 0) / 1000, { style: "unit", unit: "kilobyte", maximumFractionDigits: 1 }) });
      const download = h("button", { type: "button" }, t("account.exportDownload"));
      download.addEventListener("click", () => saveArchive(job, errors));
      replace(action, download);
    } else if (job.status === "failed" || job.status === "expired") {
      status.textContent = t("account.exportFailed");
      start.disabled = false;
      replace(action, start);
    } else {
      status.textContent = t("account.exportProgress", { done: job.progress.sections_done, total: job.progress.sections_total });
    }
  };

  start.addEventListener("click", async () => {
    start.disabled = true;
    showError(errors, null);
    try {
      const job = await api("/api/v1/me/export");
      show(job);
      const last = job.status === "completed" ? job : await followJob("me/exports", job.id, { onStatus: show });
      if (!last) show(await api(`/api/v1/me/exports/${encodeURIComponent(job.id)}`));
    } catch (error) {
      showError(errors, error);
      start.disabled = false;
    }
  });
  return h("section.card", { "aria-labelledby": "export-heading" },
    h("h2", { id: "export-heading" }, t("account.exportTitle")),
    h("p", {}, t("account.exportText")), action, status, errors);
}

async function saveArchive(job, errors) {
  showError(errors, null);
  try {
    const response = await api(job.download_url, { raw: true, accept: "application/zip" });
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: `muse-export-${job.id}.zip`, hidden: true });
    append(document.body, link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    showError(errors, error);
  }
}
