// The live dashboard of `batching serve`: one self-contained page (no CDN,
// no external files). Every second it fetches /v1/dashboard and draws, per
// operation type, batch size, goodput, p99 latency and throttled requests
// per second (rates over the last 5 s) on canvases, plus jobs, breakers,
// resources and alerts; every 5 s it fetches /v1/trends (10 minutes) and
// /v1/recommendations for the advice panel. The latest numbers are also
// written into elements with stable ids (id="<figure>-<type>",
// id="updates", id="trend-<resource>", id="recommendations") so a browser
// test can read them; id="version" holds the build's version.

#include "runtime/http/http_api.hpp"
#include "runtime/policy/version.hpp"

namespace batching {

const std::string& dashboard_page() {
  static const std::string page
    = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>batching dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 18px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}
main{padding:14px 18px;display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 12px}
h2{font-size:14px;margin:0 0 6px 0}
canvas{width:100%;height:160px}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:2px 6px;border-bottom:1px solid #eef0f3;font-variant-numeric:tabular-nums}
.legend span{margin-right:12px}
.ok{color:#18794e}.bad{color:#c62828}.warn{color:#b26a00}
#status{font-size:12px;opacity:.8}
</style></head><body>
<header><h1>batching <small id="version">)html"
      + std::string{version()}
      + R"html(</small></h1><span id="status">connecting…</span>
<span>updates: <b id="updates">0</b></span></header>
<main>
<section><h2>Batch size (items)</h2><canvas id="chart-batch"></canvas><div class="legend" id="legend-batch"></div></section>
<section><h2>Goodput (items/s)</h2><canvas id="chart-goodput"></canvas><div class="legend" id="legend-goodput"></div></section>
<section><h2>p99 item latency (ms)</h2><canvas id="chart-latency"></canvas><div class="legend" id="legend-latency"></div></section>
<section><h2>Throttled requests (per s)</h2><canvas id="chart-throttle"></canvas><div class="legend" id="legend-throttle"></div></section>
<section><h2>Operation types</h2><table id="types"><thead><tr><th>type</th><th>strategy</th><th>batch</th><th>goodput/s</th><th>p99 ms</th><th>queued</th><th>in flight</th><th>429s</th><th>req/s</th><th>breaker</th></tr></thead><tbody></tbody></table></section>
<section><h2>Jobs</h2><table id="jobs"><thead><tr><th>id</th><th>type</th><th>priority</th><th>state</th><th>done</th><th>failed</th><th>total</th><th>last error</th></tr></thead><tbody></tbody></table></section>
<section><h2>Resources</h2><table id="resources"><tbody></tbody></table></section>
<section><h2>Alerts</h2><ul id="alerts"></ul></section>
<section><h2>Advice (trends over 10 min, recommendations)</h2><table id="trends"><tbody><tr><td>cpu</td><td id="trend-cpu">…</td><td>memory</td><td id="trend-memory">…</td><td>network</td><td id="trend-network">…</td><td>disk</td><td id="trend-disk">…</td></tr></tbody></table><ul id="recommendations"><li>…</li></ul></section>
</main>
<script>
"use strict";
const colors=["#1f77b4","#d62728","#2ca02c","#9467bd","#ff7f0e","#17becf","#8c564b"];
const keep=120; // points per series (2 minutes)
const series={batch:{},goodput:{},latency:{},throttle:{}};
const last={}; let updates=0;
function el(tag,text,cls){const e=document.createElement(tag);e.textContent=text;if(cls)e.className=cls;return e;}
function fmt(x){return x>=100?Math.round(x).toString():(Math.round(x*10)/10).toString();}
function push(chart,type,v){(series[chart][type]=series[chart][type]||[]).push(v);if(series[chart][type].length>keep)series[chart][type].shift();}
function draw(chart){
  const c=document.getElementById("chart-"+chart),ctx=c.getContext("2d");
  const w=c.width=c.clientWidth*devicePixelRatio,h=c.height=c.clientHeight*devicePixelRatio;
  ctx.clearRect(0,0,w,h);const types=Object.keys(series[chart]).sort();
  let max=1;for(const t of types)for(const v of series[chart][t])max=Math.max(max,v);
  ctx.fillStyle="#888";ctx.font=(11*devicePixelRatio)+"px sans-serif";ctx.fillText(fmt(max),4,12*devicePixelRatio);
  const legend=document.getElementById("legend-"+chart);legend.textContent="";
  types.forEach((t,i)=>{const pts=series[chart][t];ctx.strokeStyle=colors[i%colors.length];ctx.lineWidth=2*devicePixelRatio;ctx.beginPath();
    pts.forEach((v,j)=>{const x=w-(pts.length-1-j)*w/(keep-1),y=h-4-(h-18)*v/max;j?ctx.lineTo(x,y):ctx.moveTo(x,y);});ctx.stroke();
    const s=el("span",t+": ");s.style.color=colors[i%colors.length];const b=el("b",fmt(pts[pts.length-1]||0));b.id=chart+"-"+t;s.appendChild(b);legend.appendChild(s);});
}
function row(tbody,cells){const tr=document.createElement("tr");for(const c of cells)tr.appendChild(c instanceof Node?c:el("td",String(c)));tbody.appendChild(tr);}
function update(d){
  const now=d.clock_seconds;const types=d.batching_metrics||{};
  const tbody=document.querySelector("#types tbody");tbody.textContent="";
  for(const [t,m] of Object.entries(types)){
    // Rates over the last 5 s of the runtime's clock (steadier than
    // between two updates: a Retry-After pause would read as zero).
    const h=(last[t]=last[t]||[]);h.push({at:now,succeeded:m.succeeded,throttled:m.throttled});
    while(h.length>2&&now-h[1].at>=5)h.shift();
    let goodput=0,throttle=0;const old=h[0];
    if(now>old.at){goodput=Math.max(0,(m.succeeded-old.succeeded)/(now-old.at));throttle=Math.max(0,(m.throttled-old.throttled)/(now-old.at));}
    push("batch",t,m.current_batch_size);push("goodput",t,goodput);push("latency",t,m.p99_latency_ms);push("throttle",t,throttle);
    const br=el("td",m.circuit_breaker_state,m.circuit_breaker_state==="closed"?"ok":"bad");
    row(tbody,[t,m.strategy,m.current_batch_size,fmt(goodput),fmt(m.p99_latency_ms),m.queue_depth,m.in_flight_batches,m.throttled,fmt(m.request_rate),br]);
  }
  for(const c of Object.keys(series))draw(c);
  const jobs=document.querySelector("#jobs tbody");jobs.textContent="";
  for(const j of (d.jobs||[]).slice(0,20))row(jobs,[j.job_id,j.op_type,j.priority,el("td",j.status,j.status==="failed"?"bad":j.status==="completed"?"ok":""),j.succeeded,j.failed,j.total,j.last_error]);
  const res=document.querySelector("#resources tbody");res.textContent="";const r=d.resources||{};
  row(res,["cpu",fmt(r.cpu_percent||0)+" %"]);row(res,["memory",fmt(r.memory_percent||0)+" %"]);
  row(res,["network",fmt((r.net_rx_bytes_per_s||0)/1e3)+" kB/s in, "+fmt((r.net_tx_bytes_per_s||0)/1e3)+" kB/s out"]);
  row(res,["disk busy",fmt(r.disk_busy_percent||0)+" %"]);
  const c=d.coordinator_status||{};row(res,["jobs",(c.active_jobs||0)+" active, "+(c.waiting_jobs||0)+" waiting, "+(c.completed_jobs||0)+" done"]);
  const alerts=document.getElementById("alerts");alerts.textContent="";
  const list=d.active_alerts||[];if(!list.length)alerts.appendChild(el("li","none","ok"));
  for(const a of list)alerts.appendChild(el("li",a.level+": "+a.message,a.level==="critical"?"bad":"warn"));
  updates++;document.getElementById("updates").textContent=String(updates);
  document.getElementById("status").textContent="live, "+new Date().toLocaleTimeString();
}
async function advise(){
  try{
    const t=await (await fetch("/v1/trends?window_minutes=10",{cache:"no-store"})).json();
    for(const k of ["cpu","memory","network","disk"]){const e=document.getElementById("trend-"+k);e.textContent=t.resource_sampling?t[k]:"off";e.className=t[k]==="increasing"?"warn":"";}
    const r=await (await fetch("/v1/recommendations",{cache:"no-store"})).json();
    const ul=document.getElementById("recommendations");ul.textContent="";
    if(!r.resource_sampling)ul.appendChild(el("li","resource sampling is off (--no-resources)",""));
    else if(!r.recommendations.length)ul.appendChild(el("li","none","ok"));
    for(const x of r.recommendations||[])ul.appendChild(el("li",x.type+": "+x.recommendation,"warn"));
  }catch(e){}
  setTimeout(advise,5000);
}
advise();
async function tick(){
  try{const r=await fetch("/v1/dashboard",{cache:"no-store"});if(!r.ok)throw new Error("HTTP "+r.status);update(await r.json());}
  catch(e){document.getElementById("status").textContent="disconnected: "+e.message;}
  setTimeout(tick,1000);
}
tick();
</script></body></html>
)html";
  return page;
}

} // namespace batching
