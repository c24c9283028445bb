// Draws the leadership map's network as an SVG circle: one dot per person, a line per tie.
// A school has tens of people, so a fixed circle reads well and needs no graph library. The data
// comes from the page (json_script); the summary paragraph and the table of ties beside the
// drawing carry the same information for screen readers, so the drawing itself is one labelled
// image. Nothing moves: hovering or focusing a person highlights their ties at once.
(() => {
  const source = document.getElementById("network-data");
  const holder = document.getElementById("network-graph");
  if (!source || !holder) return;
  const data = JSON.parse(source.textContent);
  if (!data.nodes.length) return;

  const NS = "http://www.w3.org/2000/svg";
  const css = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const primary = colour("--bs-primary", "#0d6efd");
  const secondary = colour("--bs-secondary", "#6c757d");
  const danger = colour("--bs-danger", "#dc3545");
  const body = colour("--bs-body-color", "#212529");
  const background = colour("--bs-body-bg", "#fff");

  const size = 520;
  const centre = size / 2;
  const radius = data.nodes.length > 1 ? centre - 120 : 0;
  // Many names around one circle crowd each other: smaller type for a big staff.
  const fontSize = data.nodes.length > 30 ? "9" : "12";
  const position = new Map();
  data.nodes.forEach((node, i) => {
    const angle = (2 * Math.PI * i) / data.nodes.length - Math.PI / 2;
    position.set(node.id, {
      x: centre + radius * Math.cos(angle),
      y: centre + radius * Math.sin(angle),
      angle,
    });
  });

  const element = (name, attributes, parent) => {
    const el = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
    if (parent) parent.appendChild(el);
    return el;
  };

  const svg = element("svg", {
    viewBox: `0 0 ${size} ${size}`,
    width: "100%",
    role: "img",
    "aria-labelledby": holder.dataset.labelId,
  });
  const defs = element("defs", {}, svg);
  const marker = element(
    "marker",
    { id: "arrow", viewBox: "0 0 10 10", refX: "18", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto" },
    defs,
  );
  element("path", { d: "M0,0 L10,5 L0,10 z", fill: primary }, marker);

  const lines = element("g", {}, svg);
  const tiesOf = new Map(data.nodes.map((node) => [node.id, []]));
  data.ties.forEach((tie) => {
    const a = position.get(tie.source);
    const b = position.get(tie.target);
    const feedback = tie.kind === "feedback";
    const line = element(
      "line",
      {
        x1: a.x,
        y1: a.y,
        x2: b.x,
        y2: b.y,
        stroke: feedback ? primary : secondary,
        "stroke-width": Math.min(1 + tie.weight, 5),
        "stroke-opacity": "0.6",
        ...(feedback ? { "marker-end": "url(#arrow)" } : { "stroke-dasharray": "5 4" }),
      },
      lines,
    );
    tiesOf.get(tie.source).push(line);
    tiesOf.get(tie.target).push(line);
  });

  const people = element("g", {}, svg);
  data.nodes.forEach((node) => {
    const { x, y, angle } = position.get(node.id);
    const group = element("g", {}, people);
    element("title", {}, group).textContent = node.name;
    element(
      "circle",
      {
        cx: x,
        cy: y,
        r: 9,
        fill: node.leads ? primary : background,
        stroke: node.spof ? danger : primary,
        "stroke-width": node.spof ? 4 : 2,
      },
      group,
    );
    const outward = Math.cos(angle) >= 0;
    const label = element(
      "text",
      {
        x: x + (outward ? 14 : -14) * (radius ? 1 : 0),
        y: y + 4 + (radius ? 0 : 22),
        "text-anchor": radius ? (outward ? "start" : "end") : "middle",
        "font-size": fontSize,
        fill: body,
      },
      group,
    );
    label.textContent = node.name;
    const highlight = (on) => {
      for (const line of tiesOf.get(node.id)) {
        line.setAttribute("stroke-opacity", on ? "1" : "0.6");
      }
      label.setAttribute("font-weight", on ? "bold" : "normal");
    };
    group.addEventListener("mouseenter", () => highlight(true));
    group.addEventListener("mouseleave", () => highlight(false));
  });

  holder.appendChild(svg);
})();
