(function () {
  const form = document.getElementById("analyze-form");
  const status = document.getElementById("status");
  let taxonomy = null;
  async function getTaxonomy() {
    if (!taxonomy) taxonomy = await (await fetch("api/taxonomy")).json();
    return taxonomy;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = document.getElementById("text").value;
    const url = document.getElementById("url").value.trim();
    const thresholds = document.getElementById("thresholds").value;
    status.className = "muted";
    status.textContent = "analysing…";
    try {
      const response = await fetch("api/analyze", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign(url ? { url: url } : { text: text },
                                           thresholds ? { thresholds: thresholds } : {})),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || response.statusText);
      slantRender(document.getElementById("report"), body, await getTaxonomy());
      status.textContent = "done";
    } catch (err) {
      status.className = "error";
      status.textContent = String(err.message || err);
    }
  });
})();
