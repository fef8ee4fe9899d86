// Textos en español de la aplicación web (las mismas claves que en.js).
export default {
  "md.table": "Tabla",
  "md.code": "Código",
  "md.codeIn": "Código {lang}",
  "md.copyCode": "Copiar código",
  "copied": "Copiado al portapapeles.",
  "copyFailed": "No se pudo copiar: selecciona el texto y cópialo tú.",
};
