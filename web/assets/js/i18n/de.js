// Deutsche Texte der Web-App (Schlüssel wie in en.js).
export default {
  "md.table": "Tabelle",
  "md.code": "Code",
  "md.codeIn": "{lang}-Code",
  "md.copyCode": "Code kopieren",
  "copied": "In die Zwischenablage kopiert.",
  "copyFailed": "Kopieren nicht möglich: Bitte den Text markieren und selbst kopieren.",
};
