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
  // One source at a time: choosing a file clears the text and the link, typing either clears the file.
  fileBox.addEventListener("change", () => { if (fileBox.files.length) { textBox.value = ""; urlBox.value = ""; } });
  for (const box of [textBox, urlBox]) box.addEventListener("input", () => { fileBox.value = ""; });
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
      status.textContent = String(err.message || err);
    }
  });
})();
