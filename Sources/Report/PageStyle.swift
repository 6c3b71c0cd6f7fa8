//! PageStyle: report.html's inline stylesheet. Verdict colours: pass green, fail red, unknown
//! amber, invalid grey; operation dots use the same green, red and amber for ok, fail and info, so
//! one colour means one thing across the page. System fonts only: the page loads nothing.

extension HTMLReport {
    static let stylesheet = """
        :root { --pass: #15803d; --fail: #b91c1c; --unknown: #b45309; --invalid: #4b5563;
          --ok-dot: #16a34a; --fail-dot: #dc2626; --info-dot: #f59e0b; --ink: #111827; --muted: #6b7280;
          --line: #e5e7eb; --row: #f8fafc; --leader: #1d4ed8; }
        * { box-sizing: border-box; }
        body { margin: 0; font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
          background: #fff; font-size: 14px; line-height: 1.45; }
        main { padding: 8px 28px 16px; max-width: 1280px; }
        h2 { font-size: 16px; margin: 22px 0 8px; text-transform: uppercase; letter-spacing: .06em; color: #374151; }
        .banner { display: flex; align-items: center; gap: 28px; padding: 20px 28px; color: #fff; }
        .banner.verdict-pass { background: var(--pass); }
        .banner.verdict-fail { background: var(--fail); }
        .banner.verdict-unknown { background: var(--unknown); }
        .banner.verdict-invalid { background: var(--invalid); }
        .verdict-word { font-size: 54px; font-weight: 800; letter-spacing: .04em; line-height: 1;
          padding-right: 28px; border-right: 2px solid rgba(255,255,255,.5); }
        .banner h1 { margin: 0; font-size: 28px; font-weight: 700; word-break: break-word; }
        .banner p { margin: 2px 0 0; }
        .banner .headline { font-size: 18px; font-weight: 600; }
        .banner .description { opacity: .9; max-width: 900px; }
        .metadata dl { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 14px 0 6px; }
        .metadata dl div { display: flex; gap: 6px; }
        .metadata dt { color: var(--muted); }
        .metadata dd { margin: 0; font-weight: 600; }
        .command { margin: 4px 0; color: var(--muted); }
        code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
        .command code { color: var(--ink); background: #f3f4f6; padding: 2px 6px; border-radius: 4px;
          word-break: break-all; }
        table.checks { border-collapse: collapse; width: 100%; max-width: 1200px; }
        .checks th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600;
          border-bottom: 2px solid var(--line); padding: 6px 10px; }
        .checks td { border-bottom: 1px solid var(--line); padding: 8px 10px; vertical-align: top; }
        .checks tr.fail td { background: #fef2f2; }
        .checks tr.unknown td { background: #fffbeb; }
        .checks tr.invalid td { background: #f3f4f6; }
        .check-name { font-weight: 600; white-space: nowrap; }
        .pill { display: inline-block; min-width: 74px; text-align: center; padding: 2px 8px; border-radius: 999px;
          color: #fff; font-weight: 700; font-size: 12px; letter-spacing: .04em; }
        .pill.pass { background: var(--pass); } .pill.fail { background: var(--fail); }
        .pill.unknown { background: var(--unknown); } .pill.invalid { background: var(--invalid); }
        .range { color: var(--fail); font-size: 13px; margin-top: 2px; }
        details { margin-top: 4px; } summary { color: var(--muted); cursor: pointer; font-size: 13px; }
        pre { background: #f9fafb; border: 1px solid var(--line); padding: 8px 10px; margin: 4px 0 0;
          white-space: pre-wrap; word-break: break-word; }
        .stats { display: flex; flex-wrap: wrap; gap: 10px; }
        .stat { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 110px; }
        .stat .value { display: block; font-size: 20px; font-weight: 700; }
        .stat .name { color: var(--muted); font-size: 12px; }
        .stat.ok .value { color: var(--ok-dot); } .stat.fail .value { color: var(--fail-dot); }
        .stat.info .value { color: var(--unknown); }
        .legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0; margin: 0 0 8px;
          font-size: 13px; color: #374151; }
        .legend li { display: flex; align-items: center; gap: 6px; }
        .swatch { display: inline-block; width: 22px; height: 12px; border-radius: 3px; }
        .swatch.leader { background: var(--leader); }
        .swatch.follower { background: #cbd5e1; height: 6px; }
        .swatch.unreachable { background: repeating-linear-gradient(45deg, #6b7280 0 2px, #e5e7eb 2px 5px); }
        .swatch.failure { background: rgba(220,38,38,.18); border: 1.5px solid var(--fail-dot); }
        .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; }
        .dot.ok { background: var(--ok-dot); } .dot.fail { background: var(--fail-dot); }
        .dot.info { background: var(--info-dot); }
        .timeline-frame { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; padding: 6px 0; }
        .note { color: var(--muted); font-size: 13px; margin: 6px 0; }
        .empty { color: var(--muted); }
        footer { color: var(--muted); font-size: 12px; padding: 8px 28px 24px; border-top: 1px solid var(--line); }
        #timeline { display: block; font-size: 11px; }
        #timeline text { fill: #374151; }
        #timeline .row { fill: var(--row); }
        #timeline .row-label { fill: #1f2937; font-size: 12px; }
        #timeline .section-title { font-weight: 700; letter-spacing: .08em; fill: var(--muted); font-size: 11px; }
        #timeline .tick { stroke: #e5e7eb; stroke-width: 1; }
        #timeline .tick-label, #timeline .axis-title { fill: var(--muted); }
        #timeline .empty { fill: var(--muted); font-style: italic; }
        #timeline .band-label { fill: #fff; font-weight: 600; }
        #timeline .term-span.even { fill: #e0e7ff; } #timeline .term-span.odd { fill: #c7d2fe; }
        #timeline .term-label { fill: #312e81; font-weight: 700; }
        #timeline .leader-span { fill: var(--leader); }
        #timeline .leader-span-label { fill: #fff; font-weight: 600; }
        #timeline .follower-span { fill: #cbd5e1; }
        #timeline .unreachable-span { fill: url(#hatch); }
        #timeline .unreachable-span-label { fill: #111827; font-weight: 600; paint-order: stroke;
          stroke: #fff; stroke-width: 3px; }
        #timeline .marker { fill: #111827; stroke: #fff; stroke-width: 1.2; }
        #timeline .marker-cross, #timeline .marker-bars { stroke: #111827; stroke-width: 3; fill: none; }
        #timeline .plot { fill: #fff; stroke: var(--line); }
        #timeline .pending-row { fill: #fff7ed; }
        #timeline .decade { stroke: #f1f5f9; }
        #timeline .op.ok { fill: var(--ok-dot); fill-opacity: .55; }
        #timeline .op.fail { fill: var(--fail-dot); stroke: #fff; stroke-width: .7; }
        #timeline .op.info { fill: var(--info-dot); stroke: #fff; stroke-width: .7; }
        #timeline .check-failure-area { fill: rgba(220,38,38,.13); stroke: var(--fail-dot); stroke-width: 1.5;
          stroke-dasharray: 5 3; }
        #timeline .check-failure-label { fill: var(--fail); font-weight: 700; font-size: 12px; }

        """
}
