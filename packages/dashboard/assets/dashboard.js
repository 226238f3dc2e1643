// Pilotlight dashboard: the overview's live updates, the jobs list's selection, and two touches on the
// trace pages. Every page works without this script; it only keeps the overview current and eases
// selecting. It changes the page
// with textContent, attributes, createElement and clones of the server's <template> parts only,
// never with markup built from data.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const formatCount = (count) => Number(count).toLocaleString('en-US');

  const setText = (element, text) => {
    if (element && element.textContent !== text) element.textContent = text;
  };

  /** The overview: polls its `data-live` URL (`/api/overview`) and updates counts, queues, chart and workers in place. */
  function startLive(root) {
    const url = root.getAttribute('data-live');
    const interval = Number(root.getAttribute('data-live-interval')) || 2000;
    const status = root.querySelector('[data-field="live-status"]');
    const tick = async () => {
      if (!document.hidden) {
        try {
          const response = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
          if (!response.ok) throw new Error(`the server answered ${response.status}`);
          render(root, await response.json());
          setText(status, `Updated ${new Date().toLocaleTimeString()}`);
        } catch (error) {
          setText(status, `Live updates paused (${error.message}); retrying`);
        }
      }
      setTimeout(tick, interval);
    };
    setTimeout(tick, interval);
  }

  function render(root, snapshot) {
    for (const [state, count] of Object.entries(snapshot.counts)) {
      setText(root.querySelector(`[data-testid="count-${CSS.escape(state)}"]`), formatCount(count));
    }
    setText(root.querySelector('[data-testid="workers-alive"]'), formatCount(snapshot.workersAlive));
    renderQueues(root, snapshot.queues);
    renderChart(root, snapshot.chart);
  }

  /** Queue rows: existing ones updated, new ones cloned from the row template the server rendered, gone ones removed. */
  function renderQueues(root, queues) {
    const body = root.querySelector('[data-field="queue-rows"]');
    const template = root.querySelector('[data-field="queue-row-template"]');
    if (!body || !template) return;
    const parts = root.querySelector('[data-field="queue-flow-parts"]');
    const existing = new Map([...body.querySelectorAll('tr[data-queue]')].map((row) => [row.getAttribute('data-queue'), row]));
    const rows = queues.map((queue) => {
      const row = existing.get(queue.queue) ?? template.content.firstElementChild.cloneNode(true);
      row.setAttribute('data-queue', queue.queue);
      const link = row.querySelector('[data-field="queue"]');
      setText(link, queue.queue);
      link.setAttribute('href', queue.href);
      for (const cell of row.querySelectorAll('[data-state]')) {
        setText(cell.querySelector('[data-field="count"]'), formatCount(queue.counts[cell.getAttribute('data-state')] ?? 0));
      }
      const oldest = row.querySelector('[data-field="oldest"]');
      setText(oldest, queue.oldestWaiting);
      oldest.setAttribute('title', queue.oldestWaitingSince);
      if (parts) renderFlowControl(row, queue, parts.content);
      return row;
    });
    const empty = body.querySelector('[data-field="empty"]');
    if (empty) empty.hidden = rows.length > 0;
    body.replaceChildren(...(empty ? [empty] : []), ...rows);
  }

  /** What each flow-control cell shows, so that an unchanged one (its title perhaps under the pointer) is left alone. */
  const flowShown = new WeakMap();

  /**
   * A queue row's flow control (Paused badge, limits, or a dash) and its Pause or Resume form, from
   * clones of the parts the server rendered in `parts`: their titles, and the forms' CSRF token.
   */
  function renderFlowControl(row, queue, parts) {
    const part = (testId, text) => {
      const element = parts.querySelector(`[data-testid="${testId}"]`).cloneNode(true);
      if (text) element.textContent = text;
      return element;
    };
    const cell = row.querySelector('[data-testid="queue-flow"]');
    const shown = JSON.stringify([queue.paused, queue.concurrencyLimitText, queue.rateLimitText]);
    if (cell && flowShown.get(cell) !== shown) {
      const settings = [
        queue.paused && part('queue-paused'),
        queue.concurrencyLimitText && part('queue-concurrency', queue.concurrencyLimitText),
        queue.rateLimitText && part('queue-rate-limit', queue.rateLimitText),
      ].filter(Boolean);
      cell.replaceChildren(...(settings.length ? settings.flatMap((each, i) => (i ? [', ', each] : [each])) : [part('queue-no-flow')]));
      flowShown.set(cell, shown);
    }
    // Replaced only when it would post elsewhere (pause and resume have their own URLs): a button about to be pressed stays put.
    const actions = row.querySelector('[data-field="queue-action"]');
    if (actions && actions.querySelector('form')?.getAttribute('action') !== queue.toggleAction) {
      const form = parts
        .querySelector(`[data-testid="${queue.paused ? 'queue-resume' : 'queue-pause'}"]`)
        .closest('form')
        .cloneNode(true);
      form.setAttribute('action', queue.toggleAction);
      actions.replaceChildren(form);
    }
  }

  /** The chart, redrawn from the geometry the server computed (the same it drew the page's chart with). */
  function renderChart(root, chart) {
    const svg = root.querySelector('[data-testid="chart"] svg');
    if (!svg) return;
    const rect = (className, x, y, height) => {
      const element = document.createElementNS(SVG, 'rect');
      element.setAttribute('class', className);
      for (const [name, value] of Object.entries({ x, y, width: chart.barWidth, height })) element.setAttribute(name, String(value));
      return element;
    };
    const columns = chart.columns.map((column) => {
      const group = document.createElementNS(SVG, 'g');
      const title = document.createElementNS(SVG, 'title');
      title.textContent = column.label;
      group.append(
        title,
        rect('bar-hit', column.x, chart.top, chart.plotHeight),
        rect('bar-succeeded', column.x, column.succeeded.y, column.succeeded.height),
        rect('bar-failed', column.x, column.failed.y, column.failed.height),
      );
      return group;
    });
    svg.querySelector('[data-field="chart-bars"]').replaceChildren(...columns);
    svg.setAttribute('aria-label', chart.label);
    setText(svg.querySelector('[data-field="chart-max"]'), formatCount(chart.max));
    setText(root.querySelector('[data-field="chart-succeeded"]'), formatCount(chart.succeeded));
    setText(root.querySelector('[data-field="chart-failed"]'), formatCount(chart.failed));
  }

  /** The jobs list: a "select all" box, and the buttons for the selection enabled only when something is selected. */
  function startSelection(selectAll) {
    // By attribute: the form's own `id` property is shadowed by its controls named "id".
    const selector = 'input[type="checkbox"][form="bulk-selection"]';
    const boxes = () => [...document.querySelectorAll(selector)];
    const buttons = document.querySelectorAll('[data-needs-selection]');
    const sync = () => {
      const all = boxes();
      const checked = all.filter((box) => box.checked).length;
      selectAll.checked = checked > 0 && checked === all.length;
      selectAll.indeterminate = checked > 0 && checked < all.length;
      for (const button of buttons) button.disabled = checked === 0;
    };
    selectAll.hidden = false;
    selectAll.addEventListener('change', () => {
      for (const box of boxes()) box.checked = selectAll.checked;
      sync();
    });
    document.addEventListener('change', (event) => {
      if (event.target instanceof Element && event.target.matches(selector)) sync();
    });
    sync();
  }

  const live = document.querySelector('[data-live]');
  if (live) startLive(live);
  const selectAll = document.querySelector('[data-select-all]');
  if (selectAll) startSelection(selectAll);
  // The OTLP endpoint to give exporters: the server does not know the origin the browser sees.
  for (const origin of document.querySelectorAll('[data-origin]')) setText(origin, location.origin);
  // A link to a span (`/traces/…#span-…`) opens its row.
  const target = location.hash.startsWith('#span-') && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) target.querySelector('details')?.setAttribute('open', '');
})();
