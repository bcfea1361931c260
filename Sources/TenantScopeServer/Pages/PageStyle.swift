import TenantScopeCore

/// The pages' one stylesheet, inline (the CSP allows inline styles and nothing else). Colours keep
/// text at 4.5:1 or more on its background; narrow screens (phones, a narrow iframe) get one column,
/// two headline figures a row, and chart labels drawn larger (``Charts/stylesheet``).
enum PageStyle {
    static let css = """
        *,*::before,*::after{box-sizing:border-box}
        body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2633;background:#f4f6f9}
        a{color:#1f5fb8;text-underline-offset:2px}a:hover{color:#174a91}
        :focus-visible{outline:2px solid #2266cc;outline-offset:2px}
        .visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
        .page-header{background:#fff;border-bottom:1px solid #e1e6ed}
        .banner{background:#7a2e0e;color:#fff;padding:8px 24px;font-weight:600;font-size:.875rem}
        .bar{max-width:1240px;margin:0 auto;padding:18px 24px;display:flex;flex-wrap:wrap;gap:14px 32px;align-items:flex-end;justify-content:space-between}
        h1{font-size:1.375rem;line-height:1.25;margin:0;letter-spacing:-.01em}
        .subtitle{margin:4px 0 0;color:#566375;font-size:.875rem}
        .back{display:inline-block;margin:0 0 6px;font-size:.8125rem;font-weight:600}
        main{max-width:1240px;margin:0 auto;padding:20px 24px 24px}
        form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end;margin:0}
        form.filters label{display:flex;flex-direction:column;gap:3px;font-size:.75rem;font-weight:600;color:#566375}
        select,input,button{font:inherit;font-size:.875rem;min-height:36px;border-radius:6px}
        select,input{border:1px solid #b9c3d0;background:#fff;color:#1d2633;padding:6px 10px}
        select{max-width:260px}
        button{border:1px solid #1f5fb8;background:#1f5fb8;color:#fff;font-weight:600;padding:6px 16px;cursor:pointer}
        button:hover{background:#174a91;border-color:#174a91}
        button.secondary{background:#fff;color:#1f5fb8}button.secondary:hover{background:#eef4fc}
        .kpis{list-style:none;margin:0 0 16px;padding:0;display:grid;grid-template-columns:repeat(auto-fit,minmax(172px,1fr));gap:12px}
        .kpi{background:#fff;border:1px solid #e1e6ed;border-radius:10px;padding:14px 16px}
        .kpi-label{display:block;font-size:.8125rem;font-weight:600;color:#566375}
        .kpi-value{display:block;font-size:1.75rem;line-height:1.2;margin-top:4px;font-weight:700;font-variant-numeric:tabular-nums}
        .kpi-note{display:block;margin-top:2px;font-size:.75rem;color:#566375}
        .views{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;background:#fff;border:1px solid #e1e6ed;border-radius:10px;padding:10px 16px;margin:0 0 16px;font-size:.875rem}
        .views h2{font-size:.875rem;margin:0}
        .views ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center}
        .views li{display:flex;gap:6px;align-items:center}
        .views form{display:flex;gap:6px;align-items:center;margin:0}
        .views button{min-height:30px;padding:3px 10px;font-size:.8125rem}
        .views input{min-height:30px;padding:3px 8px;font-size:.8125rem}
        .views p{margin:0}.views .save{margin-left:auto}.views .links{flex-basis:100%}
        .muted{color:#566375}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,500px),1fr));gap:16px}
        .grid.single{grid-template-columns:minmax(0,1fr)}.grid+.grid{margin-top:16px}
        .panel.wide{grid-column:1/-1}
        .split{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:8px 32px;align-items:start}
        .split details.data{margin-top:0}
        .panel{background:#fff;border:1px solid #e1e6ed;border-radius:10px;padding:16px 18px 14px;min-width:0}
        .panel-head{display:flex;justify-content:space-between;align-items:flex-start;gap:12px;margin-bottom:10px}
        .panel h2{font-size:1rem;line-height:1.3;margin:0}
        .summary{margin:3px 0 0;color:#566375;font-size:.8125rem}
        .page-nav ul{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.8125rem;font-weight:600}
        .panel-actions{flex:none;display:flex;flex-wrap:wrap;gap:6px;align-items:center;justify-content:flex-end}
        form.export{margin:0}
        form.export button{min-height:0;font-size:.8125rem;line-height:1.5;padding:4px 10px;border-color:#c5cfdb;white-space:nowrap}
        form.export button:hover{border-color:#1f5fb8}
        a.csv{flex:none;font-size:.8125rem;font-weight:600;text-decoration:none;border:1px solid #c5cfdb;border-radius:6px;padding:4px 10px;white-space:nowrap}
        a.csv:hover{background:#eef4fc;border-color:#1f5fb8}
        details.data{margin-top:10px;font-size:.8125rem}
        details.data summary{cursor:pointer;color:#1f5fb8;font-weight:600;width:max-content}
        details.data table{margin-top:6px}
        .table-scroll{overflow-x:auto}
        table{border-collapse:collapse;width:100%;font-size:.8125rem;font-variant-numeric:tabular-nums}
        th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #edf0f4;vertical-align:top}
        thead th{font-size:.75rem;font-weight:600;color:#566375;background:#f8f9fb;border-bottom:1px solid #e1e6ed}
        tbody th{font-weight:600;overflow-wrap:anywhere}
        .num{text-align:right}
        .actor{display:block;font-weight:400;font-size:.75rem;color:#566375}td.date{white-space:nowrap}
        table.heat td,table.heat thead th+th{text-align:right}table.heat tbody th,table.heat td{white-space:nowrap}
        table.exports tbody th{min-width:8rem}
        .empty{color:#566375}
        .note{margin:0 0 8px;font-size:.8125rem;color:#566375}
        .copy{display:flex;gap:8px;flex-wrap:wrap;margin:12px 0}.copy input{flex:1 1 320px;min-width:0}
        .message{max-width:640px;background:#fff;border:1px solid #e1e6ed;border-radius:10px;padding:20px 24px}
        .message p{margin:0 0 12px}.message p:last-child{margin:0}
        footer.page-footer{max-width:1240px;margin:0 auto;padding:0 24px 32px;color:#566375;font-size:.75rem}
        @media (max-width:600px){
        .bar{padding:14px 12px;gap:12px}main{padding:12px 12px 32px}footer.page-footer{padding:0 12px 24px}.banner{padding:8px 12px}
        h1{font-size:1.25rem}form.filters{width:100%;display:grid;grid-template-columns:1fr 1fr}form.filters button{grid-column:1/-1}
        select{max-width:none;width:100%}
        .kpis{grid-template-columns:1fr 1fr;gap:8px}.kpi{padding:10px 12px}.kpi-value{font-size:1.375rem}
        .kpi:last-child:nth-child(odd){grid-column:1/-1}
        th,td{padding:6px 6px}table{font-size:.75rem}thead th{font-size:.6875rem}.wide-only{display:none}
        .grid{gap:12px}.panel{padding:12px 12px 10px}.views .save{margin-left:0}
        .panel-head{flex-wrap:wrap}.panel-actions{justify-content:flex-start}
        }
        """ + Charts.stylesheet
}
