// Sets the page's language before it paints, as the page itself will pick it: the link's
// lang=, else the first of the browser's languages the page speaks, else English. The static
// skeleton in index.html then shows its text in that language only (app/style.css).
(() => {
  const spoken = (tag) => ['zh', 'en'].find((lang) => tag?.toLowerCase().startsWith(lang));
  const linked = spoken(new URLSearchParams(location.search).get('lang')?.trim());
  const browser = (navigator.languages ?? [navigator.language]).map(spoken).find(Boolean);
  document.documentElement.lang = linked ?? browser ?? 'en';
})();
