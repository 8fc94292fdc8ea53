//! A [`Timeline`] drawn as SVG. The axis is broken to fit the data: each instant something
//! happens at is a column, as wide as the marks it holds side by side, and the gap before it
//! grows with the logarithm of the time since the previous one, so a 12-hour wait does not
//! crush two requests a millisecond apart. A gap of a minute or more is drawn broken (a
//! zigzag). Every instant is labelled with its simulated time, exactly; every mark and span
//! carries its text as a `<title>` (the hover), and the same texts are listed beside the
//! picture by the page.

use std::fmt::Write;

use wfsim_engine::time::SimTime;

use crate::timeline::{MarkKind, Timeline};

const GUTTER: f64 = 150.0;
const TOP: f64 = 46.0;
const LANE: f64 = 30.0;
const SLOT: f64 = 12.0;
const RIGHT: f64 = 40.0;
/// A gap of this many seconds or more is drawn broken.
const BREAK_SECS: u64 = 60;

/// Where each instant's column starts and how wide it is.
#[derive(Debug)]
pub(crate) struct Axis {
    pub(crate) instants: Vec<SimTime>,
    pub(crate) x: Vec<f64>,
    pub(crate) width: Vec<f64>,
    pub(crate) broken: Vec<bool>,
}

impl Axis {
    pub(crate) fn of(t: &Timeline) -> Axis {
        let instants = t.instants();
        // The most marks any lane has at each instant: that many slots side by side.
        let mut stacked = vec![1usize; instants.len()];
        let mut count = std::collections::BTreeMap::<(usize, usize), usize>::new();
        for m in &t.marks {
            let i = instants.binary_search(&m.at).unwrap_or(0);
            let n = count.entry((i, m.lane)).or_default();
            *n += 1;
            stacked[i] = stacked[i].max(*n);
        }
        let (mut x, mut width, mut broken) = (Vec::new(), Vec::new(), Vec::new());
        let mut next = GUTTER + 10.0;
        for (i, at) in instants.iter().enumerate() {
            let gap_secs = i
                .checked_sub(1)
                .map_or(0, |p| at.as_nanos().saturating_sub(instants[p].as_nanos()));
            let gap = if i == 0 {
                0.0
            } else {
                let ms = gap_secs as f64 / 1e6;
                (14.0 + 16.0 * (1.0 + ms).log10()).clamp(14.0, 150.0)
            };
            next += gap;
            x.push(next);
            let w = SLOT * stacked[i] as f64 + 6.0;
            width.push(w);
            broken.push(i > 0 && gap_secs >= BREAK_SECS * 1_000_000_000);
            next += w;
        }
        Axis {
            instants,
            x,
            width,
            broken,
        }
    }

    fn column(&self, at: SimTime) -> usize {
        match self.instants.binary_search(&at) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    fn end(&self) -> f64 {
        self.x.last().copied().unwrap_or(GUTTER) + self.width.last().copied().unwrap_or(0.0)
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The shape of a mark: requests' verdicts differ in shape as well as colour.
fn shape(kind: MarkKind, cx: f64, cy: f64) -> String {
    match kind {
        MarkKind::Stored => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="9" height="9""#,
            cx - 4.5,
            cy - 4.5
        ),
        MarkKind::SlotFull => format!(r#"<path d="M{:.1} {:.1}l5 9h-10z""#, cx, cy - 5.0),
        MarkKind::NotFound | MarkKind::Refused => format!(
            r#"<path d="M{:.1} {:.1}l9 9m0 -9l-9 9" stroke-width="2.5""#,
            cx - 4.5,
            cy - 4.5
        ),
        MarkKind::TimedOut | MarkKind::HttpTimedOut => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="3" height="14""#,
            cx - 1.5,
            cy - 7.0
        ),
        MarkKind::Failed | MarkKind::Succeeded => {
            format!(r#"<path d="M{:.1} {:.1}l5 5l-5 5l-5 -5z""#, cx, cy - 5.0)
        }
        _ => format!(r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="4.5""#),
    }
}

/// The reports' stylesheet: the pages' and the pictures' colours and marks, in one place.
pub(crate) const STYLE: &str = include_str!("report.css");

/// The picture as a file of its own (`wfsim run --svg OUT`, the README's picture): the
/// drawing with the reports' stylesheet inside it and a white ground, so it looks the same
/// opened alone or shown as an image.
pub fn standalone(t: &Timeline) -> String {
    let picture = draw(t);
    let Some(open) = picture.find('>') else {
        return picture;
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}<style>{STYLE}</style><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>{}\n",
        &picture[..=open],
        &picture[open + 1..]
    )
}

/// The picture, as an `<svg>` element.
pub fn draw(t: &Timeline) -> String {
    let axis = Axis::of(t);
    let width = axis.end() + RIGHT;
    let height = TOP + LANE * t.lanes.len() as f64 + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}"><desc>One lane per thread and per callback endpoint; time runs right on a broken axis, each instant labelled exactly.</desc>"#
    );
    // Lanes.
    for (i, lane) in t.lanes.iter().enumerate() {
        let y = TOP + LANE * i as f64;
        let _ = write!(
            s,
            r#"<g class="lane" data-lane="{}"><rect class="band{}" x="0" y="{y:.1}" width="{width:.0}" height="{LANE}"/><text class="label" x="8" y="{:.1}">{}</text></g>"#,
            esc(&lane.label),
            if i % 2 == 0 { " even" } else { "" },
            y + LANE / 2.0 + 4.0,
            esc(&lane.label)
        );
    }
    // The axis: a line per instant, its time above; a zigzag where it breaks.
    // Two rows of labels, so that instants close together are both labelled.
    let mut last_label = [f64::MIN; 2];
    for (i, at) in axis.instants.iter().enumerate() {
        let x = axis.x[i];
        let _ = write!(
            s,
            r#"<line class="tick" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{height:.1}"><title>{at}</title></line>"#,
            TOP - 6.0
        );
        if let Some(row) = (0..2).find(|&r| x - last_label[r] >= 64.0) {
            let _ = write!(
                s,
                r#"<text class="time" x="{x:.1}" y="{:.1}">{at}</text>"#,
                TOP - 24.0 + 13.0 * row as f64
            );
            last_label[row] = x;
        }
        if axis.broken[i] {
            // Midway through the gap, two zigzags from the axis down through every lane.
            let mid = (axis.x[i - 1] + axis.width[i - 1] + x) / 2.0;
            let steps = ((height - TOP) / 4.0).ceil() as usize + 1;
            let zig: String = (0..steps)
                .map(|k| if k % 2 == 0 { "l3 4" } else { "l-3 4" })
                .collect::<Vec<_>>()
                .join("");
            for dx in [-3.0, 3.0] {
                let _ = write!(
                    s,
                    r#"<path class="break" d="M{:.1} {:.1}{zig}"><title>time skipped: {} to {at}</title></path>"#,
                    mid + dx,
                    TOP - 4.0,
                    axis.instants[i - 1]
                );
            }
        }
    }
    // Spans under the marks.
    for span in &t.spans {
        let from = axis.column(span.from);
        let x1 = axis.x[from] + 3.0;
        let x2 = span
            .to
            .map_or(axis.end(), |to| axis.x[axis.column(to)] + 3.0);
        let y = TOP + LANE * span.lane as f64 + LANE / 2.0 - 4.0;
        let open = if span.to.is_none() { " open" } else { "" };
        let _ = write!(
            s,
            r#"<rect class="span {}{open}" x="{x1:.1}" y="{y:.1}" width="{:.1}" height="8"><title>{} – {}: {}</title></rect>"#,
            span.kind.class(),
            (x2 - x1).max(2.0),
            span.from,
            span.to.map_or("the end".to_owned(), |t| t.to_string()),
            esc(&span.text)
        );
    }
    // Marks, side by side where one lane has several at one instant.
    let mut used = std::collections::BTreeMap::<(usize, usize), usize>::new();
    for m in &t.marks {
        let col = axis.column(m.at);
        let slot = used.entry((col, m.lane)).or_default();
        let cx = axis.x[col] + 3.0 + SLOT / 2.0 + SLOT * *slot as f64;
        *slot += 1;
        let cy = TOP + LANE * m.lane as f64 + LANE / 2.0;
        let _ = write!(
            s,
            r#"{} class="mark {}" data-at="{}"><title>{}: {}</title></{}>"#,
            shape(m.kind, cx, cy),
            m.kind.class(),
            m.at,
            m.at,
            esc(&m.text),
            match shape(m.kind, 0.0, 0.0).split_whitespace().next() {
                Some("<rect") => "rect",
                Some("<path") => "path",
                _ => "circle",
            }
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{Lane, LaneOf, Mark};

    fn t(marks: &[(u64, usize)]) -> Timeline {
        Timeline {
            lanes: vec![
                Lane {
                    of: LaneOf::Thread(0),
                    label: "main".into(),
                },
                Lane {
                    of: LaneOf::Endpoint(0),
                    label: "endpoint 0".into(),
                },
            ],
            marks: marks
                .iter()
                .map(|&(ms, lane)| Mark {
                    lane,
                    at: SimTime::from_nanos(ms * 1_000_000),
                    kind: MarkKind::Taken,
                    text: "x".into(),
                })
                .collect(),
            spans: Vec::new(),
            end: SimTime::from_nanos(marks.iter().map(|m| m.0).max().unwrap_or(0) * 1_000_000),
        }
    }

    #[test]
    fn a_millisecond_after_twelve_hours_is_still_told_apart() {
        let hours = 12 * 3600 * 1000;
        let axis = Axis::of(&t(&[(0, 0), (hours, 1), (hours + 1, 1)]));
        assert_eq!(axis.instants.len(), 3);
        let long = axis.x[1] - (axis.x[0] + axis.width[0]);
        let short = axis.x[2] - (axis.x[1] + axis.width[1]);
        assert!(short >= 14.0, "one millisecond apart: {short}px");
        assert!(long <= 150.0, "twelve hours fit: {long}px");
        assert!(axis.broken[1] && !axis.broken[2]);
    }

    #[test]
    fn marks_at_one_instant_stand_side_by_side() {
        let axis = Axis::of(&t(&[(5, 1), (5, 1), (5, 1), (5, 0)]));
        assert_eq!(axis.width[1], 3.0 * SLOT + 6.0);
        let svg = draw(&t(&[(5, 1), (5, 1)]));
        assert_eq!(svg.matches(r#"class="mark taken""#).count(), 2);
        assert!(svg.contains(">0.005s</text>"), "{svg}");
    }
}
