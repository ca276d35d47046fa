// The channel tab's configuration page: one choice only, so it is valid as soon as it opens.
"use strict";

(async function () {
  const teams = window.microsoftTeams;
  if (!teams || window.parent === window) {
    return;
  }
  await teams.app.initialize();
  teams.pages.config.registerOnSaveHandler((saveEvent) => {
    const page = new URL("/tabs/ict", window.location.href).href;
    teams.pages.config
      .setConfig({
        entityId: "ict-channel",
        contentUrl: page + "?lang={locale}",
        websiteUrl: page,
        suggestedDisplayName: document.body.dataset.tabName,
      })
      .then(() => saveEvent.notifySuccess())
      .catch((error) => saveEvent.notifyFailure(String(error)));
  });
  teams.pages.config.setValidityState(true);
})();
