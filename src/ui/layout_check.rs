//! What a person would see as broken on a drawn page, found from the element geometry Slint
//! laid out: text cut by its own box, a word wider than its box (broken mid-word), text spilling
//! out of the box drawn around it or off the screen, two texts or two boxes drawn over each
//! other, and a button or input with no label for the screen-reader tree. Works on any window whose renderer measures text (the software renderer and Slint's
//! testing backend both measure with the real fonts). Reads Slint's item tree through
//! `i-slint-core`, pinned to the same version as `slint`; depends on nothing else in the kiosk.

use i_slint_core::item_tree::{ItemRc, ParentItemTraversalMode};
use i_slint_core::items::{
    BasicBorderRectangle, BorderRectangle, ComplexText, Flickable, Rectangle, SimpleText, TextInput,
};
use i_slint_core::layout::Orientation;
use i_slint_core::lengths::{LogicalPoint, LogicalRect, LogicalSize};
use i_slint_core::window::WindowInner;

/// Half a pixel of rounding either way is layout noise, not a defect.
const SLACK: f32 = 1.0;

/// One thing wrong on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The text concerned (for two elements, the first one's), clipped for reading.
    pub text: String,
    /// Where, in window coordinates: x, y, width, height.
    pub rect: [f32; 4],
    /// What was needed or what it collided with, for the report.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Needs more height than its box has: the last lines are cut.
    TextCut,
    /// A word (or an unwrapped line) is wider than the box: it is broken or cut.
    TextTooWide,
    /// Drawn outside the rectangle around it (a tile, a card, a button).
    SpillsOutOfBox,
    /// Partly outside the window, or partly hidden by a clipping parent that does not scroll.
    OffScreen,
    /// Two texts drawn over each other.
    TextsOverlap,
    /// Two boxes (neither inside the other) drawn over each other.
    BoxesOverlap,
    /// A button or input with no label for the screen-reader tree.
    Unlabelled,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [x, y, w, h] = self.rect;
        write!(
            f,
            "{:?} \"{}\" at {x:.0},{y:.0} {w:.0}x{h:.0}: {}",
            self.kind, self.text, self.detail
        )
    }
}

/// A drawn element found on the page, in window coordinates, with what clips it.
struct Drawn {
    item: ItemRc,
    rect: LogicalRect,
    /// The intersection of every clipping ancestor (window included).
    clip: LogicalRect,
    /// Under a Flickable: partly hidden is scrolling, not a defect.
    scrolls: bool,
    /// The modal layer it belongs to: the nearest translucent full box (a dialog's scrim) above
    /// it, if any. Only elements of one layer can collide; a dialog covers the page on purpose.
    layer: Option<ItemRc>,
}

fn rect_of(item: &ItemRc) -> LogicalRect {
    let g = item.geometry();
    LogicalRect::new(item.map_to_window(g.origin), g.size)
}

fn contains(outer: &LogicalRect, inner: &LogicalRect) -> bool {
    inner.min_x() >= outer.min_x() - SLACK
        && inner.min_y() >= outer.min_y() - SLACK
        && inner.max_x() <= outer.max_x() + SLACK
        && inner.max_y() <= outer.max_y() + SLACK
}

/// Overlap of more than a couple of pixels each way.
fn overlap(a: &LogicalRect, b: &LogicalRect) -> Option<LogicalRect> {
    a.intersection(b)
        .filter(|i| i.width() > 2.0 * SLACK && i.height() > 2.0 * SLACK)
}

fn text_of(item: &ItemRc) -> Option<String> {
    if let Some(t) = item.downcast::<SimpleText>() {
        return Some(t.as_pin_ref().text().to_string());
    }
    if let Some(t) = item.downcast::<ComplexText>() {
        return Some(t.as_pin_ref().text().to_string());
    }
    item.downcast::<TextInput>()
        .map(|t| t.as_pin_ref().text().to_string())
}

/// Text that ends in "…" when it does not fit: a clean cut chosen by the page, not a spill.
/// Only when its lines start at the top: text centred in a box too short for it loses its first
/// line as well as its end.
fn elides(item: &ItemRc) -> bool {
    use i_slint_core::item_rendering::RenderText;
    use i_slint_core::items::{TextOverflow, TextVerticalAlignment};
    let (overflow, align) = if let Some(t) = item.downcast::<SimpleText>() {
        let t = t.as_pin_ref();
        (t.overflow(), t.vertical_alignment())
    } else if let Some(t) = item.downcast::<ComplexText>() {
        let t = t.as_pin_ref();
        (t.overflow(), t.vertical_alignment())
    } else {
        return false;
    };
    overflow == TextOverflow::Elide && align == TextVerticalAlignment::Top
}

/// A dimmed backdrop behind a dialog: a box filled with a translucent colour.
fn is_scrim(item: &ItemRc) -> bool {
    let translucent = |b: i_slint_core::Brush| {
        let c = b.color();
        c.alpha() > 0 && c.alpha() < 255
    };
    if let Some(r) = item.downcast::<Rectangle>() {
        return translucent(r.as_pin_ref().background());
    }
    if let Some(r) = item.downcast::<BasicBorderRectangle>() {
        return translucent(r.as_pin_ref().background());
    }
    item.downcast::<BorderRectangle>()
        .is_some_and(|r| translucent(r.as_pin_ref().background()))
}

/// A rectangle a person sees as a box: filled or outlined.
fn is_box(item: &ItemRc) -> bool {
    if let Some(r) = item.downcast::<BorderRectangle>() {
        let r = r.as_pin_ref();
        return !r.background().is_transparent() || r.border_width().get() > 0.0;
    }
    if let Some(r) = item.downcast::<BasicBorderRectangle>() {
        let r = r.as_pin_ref();
        return !r.background().is_transparent() || r.border_width().get() > 0.0;
    }
    item.downcast::<Rectangle>()
        .is_some_and(|r| !r.as_pin_ref().background().is_transparent())
}

fn ancestors(item: &ItemRc) -> impl Iterator<Item = ItemRc> {
    std::iter::successors(
        item.parent_item(ParentItemTraversalMode::StopAtPopups),
        |p| p.parent_item(ParentItemTraversalMode::StopAtPopups),
    )
}

fn is_ancestor(maybe: &ItemRc, of: &ItemRc) -> bool {
    ancestors(of).any(|a| a == *maybe)
}

fn short(text: &str) -> String {
    let one_line = text.replace('\n', " ");
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

fn problem(kind: ProblemKind, text: &str, r: &LogicalRect, detail: String) -> Problem {
    Problem {
        kind,
        text: short(text),
        rect: [r.min_x(), r.min_y(), r.width(), r.height()],
        detail,
    }
}

/// Everything wrong on what `window` shows now (lays it out first if needed).
pub fn check(window: &slint::Window) -> Vec<Problem> {
    let inner = WindowInner::from_pub(window);
    let adapter = inner.window_adapter();
    let root = ItemRc::new_root(inner.component());
    let size = window.size().to_logical(window.scale_factor());
    let screen = LogicalRect::new(
        LogicalPoint::new(0.0, 0.0),
        LogicalSize::new(size.width, size.height),
    );

    let mut texts: Vec<(Drawn, String)> = Vec::new();
    let mut boxes: Vec<Drawn> = Vec::new();
    let mut unlabelled: Vec<LogicalRect> = Vec::new();
    root.visit_descendants(|item| {
        let rect = rect_of(item);
        let mut clip = screen;
        let mut scrolls = false;
        for a in ancestors(item) {
            if a.downcast::<Flickable>().is_some() {
                scrolls = true;
            }
            if a.borrow().as_ref().clips_children() {
                clip = clip.intersection(&rect_of(&a)).unwrap_or_default();
            }
        }
        // Hidden entirely (scrolled away, a zero-size branch): nothing a person sees.
        if clip.intersection(&rect).is_none() || rect.is_empty() {
            return std::ops::ControlFlow::<()>::Continue(());
        }
        {
            use i_slint_core::accessibility::AccessibleStringProperty;
            use i_slint_core::items::AccessibleRole;
            let role = item.accessible_role();
            let needs_label = matches!(
                role,
                AccessibleRole::Button | AccessibleRole::TextInput | AccessibleRole::Checkbox
            );
            let label = item
                .accessible_string_property(AccessibleStringProperty::Label)
                .unwrap_or_default();
            if item.is_accessible() && needs_label && label.trim().is_empty() {
                unlabelled.push(rect);
            }
        }
        let layer = std::iter::once(item.clone())
            .chain(ancestors(item))
            .find(is_scrim);
        let drawn = Drawn {
            item: item.clone(),
            rect,
            clip,
            scrolls,
            layer,
        };
        match text_of(item) {
            Some(t) if !t.trim().is_empty() => texts.push((drawn, t)),
            Some(_) => {}
            None if is_box(item) && !is_scrim(item) => boxes.push(drawn),
            None => {}
        }
        std::ops::ControlFlow::Continue(())
    });

    let mut found = Vec::new();
    for r in &unlabelled {
        found.push(problem(
            ProblemKind::Unlabelled,
            "",
            r,
            "a control with no accessible-label".into(),
        ));
    }
    for (d, text) in &texts {
        let item_ref = d.item.borrow();
        let (w, h) = (d.rect.width(), d.rect.height());
        let needs_w = item_ref
            .as_ref()
            .layout_info(Orientation::Horizontal, -1.0, &adapter, &d.item)
            .min;
        let needs_h = item_ref
            .as_ref()
            .layout_info(Orientation::Vertical, w, &adapter, &d.item)
            .min;
        let elided = elides(&d.item);
        if needs_w > w + SLACK && !elided {
            found.push(problem(
                ProblemKind::TextTooWide,
                text,
                &d.rect,
                format!("needs {needs_w:.0} px wide"),
            ));
        }
        if needs_h > h + SLACK && !elided {
            found.push(problem(
                ProblemKind::TextCut,
                text,
                &d.rect,
                format!("needs {needs_h:.0} px tall"),
            ));
        }
        if !d.scrolls && !contains(&d.clip, &d.rect) {
            found.push(problem(
                ProblemKind::OffScreen,
                text,
                &d.rect,
                "partly outside the screen or its clipping parent".into(),
            ));
        }
        if let Some(b) = ancestors(&d.item).find(is_box) {
            let box_rect = rect_of(&b);
            if !contains(&box_rect, &d.rect) {
                found.push(problem(
                    ProblemKind::SpillsOutOfBox,
                    text,
                    &d.rect,
                    format!(
                        "box at {:.0},{:.0} {:.0}x{:.0}",
                        box_rect.min_x(),
                        box_rect.min_y(),
                        box_rect.width(),
                        box_rect.height()
                    ),
                ));
            }
        }
    }
    // A box (a tile's inner panel, a button) must stay inside the box around it too.
    for b in &boxes {
        if b.scrolls && !contains(&b.clip, &b.rect) {
            continue;
        }
        if let Some(outer) = ancestors(&b.item).find(is_box) {
            let outer_rect = rect_of(&outer);
            if !contains(&outer_rect, &b.rect) {
                let inside = texts
                    .iter()
                    .find(|(t, _)| is_ancestor(&b.item, &t.item))
                    .map(|(_, s)| s.as_str())
                    .unwrap_or("(a box)");
                found.push(problem(
                    ProblemKind::SpillsOutOfBox,
                    inside,
                    &b.rect,
                    format!(
                        "box at {:.0},{:.0} {:.0}x{:.0}",
                        outer_rect.min_x(),
                        outer_rect.min_y(),
                        outer_rect.width(),
                        outer_rect.height()
                    ),
                ));
            }
        }
    }
    for (i, (a, ta)) in texts.iter().enumerate() {
        for (b, tb) in &texts[i + 1..] {
            if a.layer != b.layer {
                continue;
            }
            let (va, vb) = (
                a.rect.intersection(&a.clip).unwrap_or_default(),
                b.rect.intersection(&b.clip).unwrap_or_default(),
            );
            if overlap(&va, &vb).is_some() {
                found.push(problem(
                    ProblemKind::TextsOverlap,
                    ta,
                    &a.rect,
                    format!("over \"{}\"", short(tb)),
                ));
            }
        }
    }
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            if a.layer != b.layer || is_ancestor(&a.item, &b.item) || is_ancestor(&b.item, &a.item)
            {
                continue;
            }
            let (va, vb) = (
                a.rect.intersection(&a.clip).unwrap_or_default(),
                b.rect.intersection(&b.clip).unwrap_or_default(),
            );
            if overlap(&va, &vb).is_some() {
                let inside = texts
                    .iter()
                    .find(|(t, _)| is_ancestor(&a.item, &t.item))
                    .map(|(_, s)| s.as_str())
                    .unwrap_or("(a box)");
                found.push(problem(
                    ProblemKind::BoxesOverlap,
                    inside,
                    &a.rect,
                    format!(
                        "over the box at {:.0},{:.0} {:.0}x{:.0}",
                        b.rect.min_x(),
                        b.rect.min_y(),
                        b.rect.width(),
                        b.rect.height()
                    ),
                ));
            }
        }
    }
    found
}
