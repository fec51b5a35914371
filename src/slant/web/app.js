(function () {
  const form = document.getElementById("analyze-form");
  const status = document.getElementById("status");
  const download = document.getElementById("download");
  const downloadReport = document.getElementById("download-report");
  let result = null;   // the last Document shown
  function save(blob, name) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }
  download.addEventListener("click", (event) => {
    event.preventDefault();
    save(new Blob([JSON.stringify(result, null, 2) + "\n"], { type: "application/json" }), `${result.id}.json`);
  });
  downloadReport.addEventListener("click", async (event) => {
    event.preventDefault();
    try {
      const response = await fetch("api/report", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(result),
      });
      if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
      save(await response.blob(), `${result.id}.html`);
    } catch (err) {
      status.className = "error";
      status.textContent = String(err.message || err);
    }
  });
  let taxonomy = null;
  async function getTaxonomy() {
    if (!taxonomy) taxonomy = await (await fetch("api/taxonomy")).json();
    return taxonomy;
  }
  const textBox = document.getElementById("text");
  const urlBox = document.getElementById("url");
  const fileBox = document.getElementById("file");
  const fromLine = document.getElementById("from");
  let from = null;   // {title, source_url}: the page a text given by the bookmarklet was selected on
  let bookmarkedPage = "";   // the address the bookmarklet gave with nothing selected
  function setFrom(given) {
    from = given;
    fromLine.hidden = !given;
    fromLine.textContent = given ? `selected on ${[given.title, given.source_url].filter(Boolean).join(" · ")}` : "";
  }
  // One source at a time: choosing a file clears the text and the link, typing either clears the file; a text
  // changed by hand is no longer the selection the bookmarklet brought.
  fileBox.addEventListener("change", () => {
    if (fileBox.files.length) { textBox.value = ""; urlBox.value = ""; setFrom(null); }
  });
  for (const box of [textBox, urlBox]) box.addEventListener("input", () => { fileBox.value = ""; setFrom(null); });

  // The bookmarklet: on any page it opens this page with what to analyse in the address's #fragment, which
  // browsers send to no server: the selected text with the page's title (its og:title where it has one: the
  // headline without the site's name that <title> adds) and address, or, with nothing selected, the page's
  // address for this server to fetch (public pages only).
  const MAX_FRAGMENT = 1500000;   // characters: Chrome keeps addresses up to 2 MB, Firefox up to 1 MB of them
  const bookmarklet = document.getElementById("bookmarklet");
  const code = "(function(){var s=String(getSelection()).trim(),m=document.querySelector('meta[property=\"og:" +
    "title\"]'),t=(m&&m.content||document.title||'').trim(),p=s?{text:s,title:t,source_url:" +
    "location.href}:{url:location.href},h=Object.keys(p).filter(function(k){return p[k]}).map(function(k){" +
    "return k+'='+encodeURIComponent(p[k])}).join('&');if(h.length>" + MAX_FRAGMENT + "){alert('slant: the " +
    "selection is too long to send this way; save the page and analyse the file');return}window.open(" +
    JSON.stringify(location.origin + location.pathname) + "+'#'+h,'_blank','noopener')})()";
  bookmarklet.href = "javascript:" + encodeURIComponent(code);
  bookmarklet.addEventListener("click", (event) => {   // here it would analyse this very page
    event.preventDefault();
    status.className = "muted";
    status.textContent = "drag the link to your bookmarks bar, then click the bookmark on the page you read";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textBox.value;
    const url = urlBox.value.trim();
    const file = fileBox.files.length ? fileBox.files[0] : null;
    const thresholds = document.getElementById("thresholds").value;
    status.className = "muted";
    status.textContent = "analysing…";
    download.hidden = downloadReport.hidden = true;
    try {
      const response = file
        ? await fetch("api/analyze-file?name=" + encodeURIComponent(file.name) +
                      (thresholds ? "&thresholds=" + encodeURIComponent(thresholds) : ""), {
            method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: file,
          })
        : await fetch("api/analyze", {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify(Object.assign(url ? { url: url } : { text: text },
                                               !url && from ? from : {},
                                               thresholds ? { thresholds: thresholds } : {})),
          });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || response.statusText);
      slantRender(document.getElementById("report"), body, await getTaxonomy());
      status.textContent = "done";
      result = body;
      download.hidden = downloadReport.hidden = false;
    } catch (err) {
      status.className = "error";
      status.textContent = String(err.message || err) + (url && url === bookmarkedPage
        ? " — slant cannot read that page itself (a login, a paywall, a private address): select the article's " +
          "text there and click the bookmark again" : "");
    }
  });

  // Opened by the bookmarklet: analyse what its #fragment holds, and take it out of the address (a reload does
  // not analyse it again, and the text stays out of the browser's history).
  const given = new URLSearchParams(location.hash.slice(1));
  if (given.has("text") || given.has("url")) {
    history.replaceState(null, "", location.pathname + location.search);
    textBox.value = given.get("text") || "";
    urlBox.value = given.has("text") ? "" : given.get("url");
    bookmarkedPage = urlBox.value;
    // a selection on a page read from disk (file://) or a browser's own page has no address worth keeping
    const title = given.get("title"), sourceUrl = /^https?:\/\//i.test(given.get("source_url") || "")
      ? given.get("source_url") : null;
    setFrom(given.has("text") && (title || sourceUrl)
      ? Object.assign(title ? { title: title } : {}, sourceUrl ? { source_url: sourceUrl } : {}) : null);
    form.requestSubmit();
  }
})();
