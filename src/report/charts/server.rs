//! What the client measured against what the server reported, per phase: p50/p99,
//! request counts, and dedup (duplicates the generator sent against the server's hits).

use plotters::prelude::*;

use super::axis::{self, ValueAxis};
use super::{Area, Drawn, LegendItem, Mark, frame, legend, no_data, phase_tick};
use crate::metrics::summary::PhaseSummary;
use crate::report::data::RunData;
use crate::report::style::Sizes;

const CLIENT_LIGHT: RGBColor = RGBColor(140, 190, 230);
const CLIENT_DARK: RGBColor = RGBColor(31, 90, 160);
const SERVER_LIGHT: RGBColor = RGBColor(253, 190, 120);
const SERVER_DARK: RGBColor = RGBColor(200, 90, 10);

/// One panel: per phase, a group of (value, colour) bars; `None` values are not drawn.
struct Panel<'a> {
    y_desc: &'a str,
    groups: Vec<Vec<(Option<f64>, RGBColor)>>,
}

pub fn draw(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Client against server",
        "what the load generator measured beside what the target's /status reported",
        sizes,
    )?;
    let phases = &run.summary.experiments;
    if phases.iter().all(|p| p.server.is_none()) {
        let why = if run.from_plain_csv {
            "Plain Locust CSVs carry no server-side figures; runs of terrafix-tui record the target's /status per phase."
        } else {
            "The target reported no /status for any phase, so there is nothing to compare against."
        };
        no_data(&plot_area, "No server view", why, sizes)?;
    } else {
        let mut panels = vec![webhook_panel(phases)];
        if phases.iter().any(|p| p.like_for_like.as_ref().is_some_and(|l| l.batch_posts > 0)) {
            panels.push(batch_panel(phases));
        }
        panels.extend([count_panel(phases), dedup_panel(phases)]);
        for (area, panel) in plot_area.split_evenly((panels.len(), 1)).iter().zip(&panels) {
            draw_panel(area, run, panel, sizes)?;
        }
    }
    let items = vec![
        LegendItem::new("client p50", CLIENT_LIGHT, Mark::Box),
        LegendItem::new("server p50", SERVER_LIGHT, Mark::Box),
        LegendItem::new("client p99", CLIENT_DARK, Mark::Box),
        LegendItem::new("server p99", SERVER_DARK, Mark::Box),
        LegendItem::new("/webhook: server per failure", BLACK, Mark::Plain),
        LegendItem::new("/batch: server per batch", BLACK, Mark::Plain),
        LegendItem::new("client POSTs sent", CLIENT_LIGHT, Mark::Box),
        LegendItem::new("server POSTs handled", SERVER_LIGHT, Mark::Box),
        LegendItem::new("duplicates sent", CLIENT_DARK, Mark::Box),
        LegendItem::new("server dedup hits", SERVER_DARK, Mark::Box),
        LegendItem::new("Phases", BLACK, Mark::Heading),
    ];
    let mut items = items;
    items.extend(
        run.phases.iter().map(|p| LegendItem::new(format!("{} {}", p.index + 1, p.name), BLACK, Mark::Plain)),
    );
    legend(&legend_area, "Bars", &items, sizes)
}

/// Single posts beside the server's per-failure latency; a phase without single posts
/// (or a summary from before the split) falls back to all requests.
fn webhook_panel(phases: &[PhaseSummary]) -> Panel<'static> {
    Panel {
        y_desc: "/webhook latency (ms)",
        groups: phases
            .iter()
            .map(|p| {
                let s = p.server.as_ref();
                let (c50, c99) = match p.like_for_like.as_ref().filter(|l| l.webhook_posts > 0) {
                    Some(l) => (l.client_webhook_p50_ms, l.client_webhook_p99_ms),
                    None => (p.latency_ms.p50, p.latency_ms.p99),
                };
                vec![
                    (Some(c50), CLIENT_LIGHT),
                    (s.and_then(|s| s.p50_ms), SERVER_LIGHT),
                    (Some(c99), CLIENT_DARK),
                    (s.and_then(|s| s.p99_ms), SERVER_DARK),
                ]
            })
            .collect(),
    }
}

/// Whole `/batch` posts beside the server's per-batch latency (never its per-item figure).
fn batch_panel(phases: &[PhaseSummary]) -> Panel<'static> {
    Panel {
        y_desc: "/batch latency (ms)",
        groups: phases
            .iter()
            .map(|p| match p.like_for_like.as_ref().filter(|l| l.batch_posts > 0) {
                Some(l) => vec![
                    (Some(l.client_batch_p50_ms), CLIENT_LIGHT),
                    (l.server_batch_p50_ms, SERVER_LIGHT),
                    (Some(l.client_batch_p99_ms), CLIENT_DARK),
                    (l.server_batch_p99_ms, SERVER_DARK),
                ],
                None => vec![(None, CLIENT_LIGHT); 4],
            })
            .collect(),
    }
}

/// POSTs the server handled: it counts each batch item as a request, so batch items are
/// swapped for batch posts to compare like with like. `None` when it does not say.
fn server_posts(p: &PhaseSummary) -> Option<f64> {
    let s = p.server.as_ref()?;
    let stats = crate::metrics::status::ServerStatus::from_value(&s.raw).stats;
    let total = s.total_requests?;
    Some(match (stats.batch_items, stats.batch_requests) {
        (Some(items), Some(posts)) => total.saturating_sub(items) + posts,
        _ => total,
    } as f64)
}

fn count_panel(phases: &[PhaseSummary]) -> Panel<'static> {
    Panel {
        y_desc: "POST requests (count)",
        groups: phases
            .iter()
            .map(|p| {
                // GETs (/health, /status) are not counted by the server, so the client side counts POSTs too.
                let client_posts: u64 =
                    p.requests.iter().filter(|r| r.method == "POST").map(|r| r.requests).sum();
                vec![(Some(client_posts as f64), CLIENT_LIGHT), (server_posts(p), SERVER_LIGHT)]
            })
            .collect(),
    }
}

fn dedup_panel(phases: &[PhaseSummary]) -> Panel<'static> {
    Panel {
        y_desc: "dedup (count)",
        groups: phases
            .iter()
            .map(|p| {
                vec![
                    (Some(p.dedup.duplicates_sent as f64), CLIENT_DARK),
                    (p.dedup.server_hits.map(|n| n as f64), SERVER_DARK),
                ]
            })
            .collect(),
    }
}

fn draw_panel(area: &Area<'_>, run: &RunData, panel: &Panel<'_>, sizes: &Sizes) -> Drawn {
    let max = panel.groups.iter().flatten().filter_map(|(v, _)| *v).fold(0.0, f64::max);
    if max <= 0.0 {
        let what = panel.y_desc.split(' ').next().unwrap_or("values");
        return no_data(
            area,
            "",
            &format!("No {what} to compare: every value is zero or was not reported."),
            sizes,
        );
    }
    let x = ValueAxis::slots(panel.groups.len());
    let y = ValueAxis::linear(0.0, max * 1.12, 4);
    let width_px = f64::from(area.dim_in_pixel().0);
    let x_fmt = |v: &f64| phase_tick(&run.phases, *v, width_px, sizes.tick);
    let mut plot = axis::build(area, &x, &y, "", panel.y_desc, &x_fmt, sizes)?;
    for (i, group) in panel.groups.iter().enumerate() {
        let bar = 0.8 / group.len() as f64;
        for (k, (value, colour)) in group.iter().enumerate() {
            let Some(v) = value else { continue };
            let x0 = i as f64 - 0.4 + k as f64 * bar;
            plot.draw_series(std::iter::once(Rectangle::new(
                [(x0 + bar * 0.06, 0.0), (x0 + bar * 0.94, *v)],
                colour.filled(),
            )))?;
        }
    }
    Ok(())
}
