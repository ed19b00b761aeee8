// Draws the page's figures (embedded as JSON) with Plotly, and runs the customer lookup.
(function () {
  "use strict";
  const embedded = (id) => {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  };
  const figures = embedded("figures") || {};
  for (const [id, figure] of Object.entries(figures)) {
    Plotly.newPlot(id, figure.data, figure.layout, { displaylogo: false, responsive: true });
  }
  const customers = embedded("customers");
  if (!customers) return;
  const search = document.getElementById("customer-search");
  const list = document.getElementById("customer-list");
  const card = document.getElementById("customer-card");
  const fields = embedded("customer-fields");
  const show = (customer) => {
    card.replaceChildren();
    const title = document.createElement("h2");
    title.textContent = `${customer.first_name} ${customer.last_name} (${customer.customer_id})`;
    const details = document.createElement("dl");
    for (const [key, label] of fields) {
      const term = document.createElement("dt");
      term.textContent = label;
      const value = document.createElement("dd");
      value.textContent = customer[key] === null ? "–" : String(customer[key]);
      details.append(term, value);
    }
    card.append(title, details);
    for (const item of list.children) {
      item.classList.toggle("selected", item.dataset.id === customer.customer_id);
    }
  };
  const render = () => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const found = customers.filter((c) => {
      const text = `${c.customer_id} ${c.first_name} ${c.last_name} ${c.email} ${c.city}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
    list.replaceChildren(...found.slice(0, 200).map((customer) => {
      const item = document.createElement("li");
      item.dataset.id = customer.customer_id;
      item.textContent = `${customer.first_name} ${customer.last_name} · ${customer.customer_id}`;
      item.addEventListener("click", () => show(customer));
      return item;
    }));
    document.getElementById("customer-count").textContent =
      `${found.length} of ${customers.length} match`;
    if (found.length) show(found[0]);
  };
  search.addEventListener("input", render);
  render();
})();
