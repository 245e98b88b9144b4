/// The report's inline style sheet and its one script (click a table header to sort by that column; numbers sort
/// as numbers). Nothing is loaded from anywhere: system fonts only.
enum ReportStyle {
  static let css = """
    body{font-family:"DejaVu Sans",system-ui,sans-serif;color:#222;margin:0;background:#fafafa;line-height:1.45}
    header{background:#fff;border-bottom:1px solid #ddd;padding:16px 28px}
    h1{font-size:1.6em;margin:0 0 6px}h2{font-size:1.25em;margin:0 0 10px;border-bottom:1px solid #e4e4e4}
    main{max-width:1320px;padding:8px 28px 40px}
    section{background:#fff;border:1px solid #e4e4e4;border-radius:6px;margin:14px 0;padding:14px 18px}
    nav{font-size:.9em;margin-top:6px}nav a{color:#2b5d8a}
    .summary{margin:2px 0}.generated{color:#777;font-size:.85em;margin:2px 0}
    ol.verdicts{padding-left:22px}li.verdict{margin:8px 0;padding:6px 10px;border-left:5px solid #bbb}
    li.alert{border-color:#c0392b;background:#fdf0ee}li.significant{border-color:#e08e2b;background:#fff7ec}
    li.quiet{border-color:#9bb0c4}
    .kind{font-weight:bold;font-size:.8em;text-transform:uppercase;color:#555;margin-right:6px}
    .numbers{font-size:.88em;color:#444;margin-top:3px}.numbers span{margin-right:10px;white-space:nowrap}
    .note{color:#666;font-style:italic}
    table{border-collapse:collapse;margin:10px 0;font-size:.88em}caption{text-align:left;font-weight:bold;padding:4px 0}
    th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
    th{background:#f1f1f1}table.sortable th{cursor:pointer}td{max-width:640px;overflow-wrap:anywhere}
    figure{margin:14px 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
    figcaption{font-size:.88em;color:#444}a.data{margin-left:8px}
    code{background:#f3f3f3;padding:1px 4px;overflow-wrap:anywhere}
    """

  /// Sorting, and on load a count of the images that decoded on `<body data-images="ok/all">` (a broken one is
  /// named on the console), which a test of the page reads.
  static let script = """
    window.addEventListener('load',function(){
      var im=document.images,ok=0;
      for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;
        else console.error('figure did not decode: '+im[i].alt);}
      document.body.dataset.images=ok+'/'+im.length;});
    document.querySelectorAll('table.sortable').forEach(function(t){
      t.querySelectorAll('th').forEach(function(th,i){
        th.addEventListener('click',function(){
          var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows),up=th.dataset.up!=='1';
          th.dataset.up=up?'1':'0';
          rows.sort(function(a,b){
            var x=a.cells[i].textContent,y=b.cells[i].textContent,p=parseFloat(x),q=parseFloat(y);
            var c=(!isNaN(p)&&!isNaN(q))?p-q:x.localeCompare(y);return up?c:-c;});
          rows.forEach(function(r){body.appendChild(r);});});});});
    """
}
