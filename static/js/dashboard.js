// Draws the dashboard charts from the JSON the page embeds. Each chart has a table beside it
// with the same numbers, for people who read tables and for screen readers.
(() => {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const css = getComputedStyle(document.documentElement);
  const primary = css.getPropertyValue("--bs-primary").trim() || "#0d6efd";
  const secondary = css.getPropertyValue("--bs-secondary").trim() || "#6c757d";
  const success = css.getPropertyValue("--bs-success").trim() || "#198754";

  const warning = css.getPropertyValue("--bs-warning").trim() || "#ffc107";
  // Charts appear at once for people who ask their system for less motion.
  if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    Chart.defaults.animation = false;
  }

  const trendDatasets = (d) => {
    const sets = [
      { label: "Mean score", data: d.mean, borderColor: primary, yAxisID: "score" },
      { label: "% proficient", data: d.proficient, borderColor: success, yAxisID: "percent" },
    ];
    if (d.met_typical && d.met_typical.some((value) => value !== null)) {
      sets.push({
        label: "% met typical growth",
        data: d.met_typical,
        borderColor: secondary,
        borderDash: [2, 3],
        spanGaps: true,
        yAxisID: "percent",
      });
    }
    if (d.subgroup) {
      sets.push({
        label: `% proficient: ${d.subgroup}`,
        data: d.subgroup_proficient,
        borderColor: warning,
        borderDash: [6, 4],
        yAxisID: "percent",
      });
    }
    return sets;
  };

  const charts = {
    trend: (d) => ({
      type: "line",
      data: { labels: d.labels, datasets: trendDatasets(d) },
      options: {
        scales: {
          score: { position: "left", title: { display: true, text: "Mean score" } },
          percent: {
            position: "right",
            min: 0,
            max: 100,
            title: { display: true, text: "% proficient" },
            grid: { drawOnChartArea: false },
          },
        },
      },
    }),
    levels: (d) => ({
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: "Students", data: d.counts, backgroundColor: primary }] },
      options: { plugins: { legend: { display: false } } },
    }),
    growth: (d) => ({
      type: "bar",
      data: {
        labels: d.labels,
        datasets: [
          { label: "Median change", data: d.median, backgroundColor: primary, yAxisID: "change" },
          { label: "% met typical growth", data: d.percent_met, backgroundColor: success, yAxisID: "percent" },
        ],
      },
      options: {
        scales: {
          change: { position: "left", title: { display: true, text: "Median change" } },
          percent: {
            position: "right",
            min: 0,
            max: 100,
            title: { display: true, text: "% met typical growth" },
            grid: { drawOnChartArea: false },
          },
        },
      },
    }),
    gaps: (d) => ({
      type: "bar",
      data: {
        labels: d.labels,
        datasets: [
          { label: "Group % proficient", data: d.group, backgroundColor: primary },
          { label: "Rest % proficient", data: d.rest, backgroundColor: secondary },
        ],
      },
      options: { scales: { y: { min: 0, max: 100 } } },
    }),
  };

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const name = canvas.dataset.chart;
    if (data[name] && charts[name]) new Chart(canvas, charts[name](data[name]));
  });
})();
