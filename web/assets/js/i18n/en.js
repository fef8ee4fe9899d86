// English messages of the web app (the reference catalogue: every key is here).
export default {
  "md.table": "Table",
  "md.code": "Code",
  "md.codeIn": "{lang} code",
  "md.copyCode": "Copy code",
  "copied": "Copied to the clipboard.",
  "copyFailed": "Couldn't copy: select the text and copy it yourself.",
};
