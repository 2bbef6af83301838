//! The explanation attached to every computed line: which rule, which inputs, which parameters
//! (with their source), the intermediate values and the rounding.
//!
//! Building a trace must be cheap (one is built for every line of every paycheck), so labels and
//! texts are kept as their parts — static strings, dates, decimals — and only turned into text
//! when the trace is serialized (or displayed). The JSON is the same as if every label and text
//! had been formatted eagerly.

use crate::json::{JsonOut, push_decimal, push_usize};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

pub type Str = Cow<'static, str>;

/// Write `d` as `YYYY-MM-DD` (the same text as `NaiveDate`'s `Display`).
pub(crate) fn write_date(f: &mut dyn fmt::Write, d: NaiveDate) -> fmt::Result {
    match crate::json::date_bytes(d) {
        // All ASCII digits and dashes.
        Some(b) => f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?),
        None => write!(f, "{d}"),
    }
}

/// Writes the text `push` appends to a byte buffer.
fn fmt_pushed(f: &mut fmt::Formatter<'_>, push: impl FnOnce(&mut Vec<u8>)) -> fmt::Result {
    let mut b = Vec::with_capacity(64);
    push(&mut b);
    f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)
}

/// A line id or a field name in a trace, serialized as one string. (Kept to 24 bytes: a trace
/// holds hundreds of them.)
#[derive(Debug, Clone)]
pub enum Label {
    Static(&'static str),
    Owned(Box<str>),
    /// A static prefix and a date, e.g. `workweek:` + `2025-03-03` (prefix may be empty).
    Dated(&'static str, NaiveDate),
}

impl Label {
    /// The label as text (borrowed when it is one static or owned string).
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            Label::Static(s) => Cow::Borrowed(s),
            Label::Owned(s) => Cow::Borrowed(s),
            _ => Cow::Owned(self.to_string()),
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Static(s) => f.write_str(s),
            Label::Owned(s) => f.write_str(s),
            Label::Dated(p, d) => {
                f.write_str(p)?;
                write_date(f, *d)
            }
        }
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Label::Static(x) => s.serialize_str(x),
            Label::Owned(x) => s.serialize_str(x),
            _ => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Label::Owned(s.into_boxed_str()))
    }
}

impl PartialEq<str> for Label {
    fn eq(&self, other: &str) -> bool {
        match self {
            Label::Static(s) => *s == other,
            Label::Owned(s) => &**s == other,
            Label::Dated(p, d) => other
                .strip_prefix(p)
                .is_some_and(|rest| rest.len() == 10 && rest.parse::<NaiveDate>() == Ok(*d)),
        }
    }
}
impl PartialEq<&str> for Label {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}
impl PartialEq<String> for Label {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}
impl PartialEq for Label {
    fn eq(&self, other: &Label) -> bool {
        *self == *other.as_text()
    }
}

impl From<&'static str> for Label {
    fn from(s: &'static str) -> Self {
        Label::Static(s)
    }
}
impl From<String> for Label {
    fn from(s: String) -> Self {
        Label::Owned(s.into_boxed_str())
    }
}
impl From<Cow<'static, str>> for Label {
    fn from(s: Cow<'static, str>) -> Self {
        match s {
            Cow::Borrowed(b) => Label::Static(b),
            Cow::Owned(o) => Label::Owned(o.into_boxed_str()),
        }
    }
}

/// One workday of a workweek: `"{hours} h: {regular} regular, {overtime} overtime, {double} double
/// time"` (numbers normalized), plus `" (7th consecutive workday)"`. The hours are the sum of the
/// three classes (classification splits a day's hours exactly).
#[derive(Debug, Clone, Copy)]
pub struct DayText {
    pub regular: Decimal,
    pub overtime: Decimal,
    pub double_time: Decimal,
    pub seventh_day: bool,
}

/// One workweek of an overtime line: `"{h} × {rate} + {m} × {rr} × {h} = {amount}"` with `m` 0.5
/// (overtime) or 1.0 (double time), the regular rate to 6 places and the amount normalized.
#[derive(Debug, Clone, Copy)]
pub struct PremiumText {
    pub hours: Decimal,
    pub rate: Decimal,
    /// true: double time (premium 1.0 × RR); false: overtime (0.5 × RR).
    pub double_time: bool,
    pub regular_rate: Decimal,
    pub amount: Decimal,
}

impl PremiumText {
    /// Appends the text to `o` (what `Display` shows).
    pub(crate) fn push_text(&self, o: &mut Vec<u8>) {
        push_decimal(o, &self.hours);
        o.extend_from_slice(" × ".as_bytes());
        push_decimal(o, &self.rate);
        o.extend_from_slice(if self.double_time {
            " + 1.0 × ".as_bytes()
        } else {
            " + 0.5 × ".as_bytes()
        });
        push_decimal(o, &self.regular_rate.round_dp(6).normalize());
        o.extend_from_slice(" × ".as_bytes());
        push_decimal(o, &self.hours);
        o.extend_from_slice(b" = ");
        push_decimal(o, &self.amount.normalize());
    }
}

impl fmt::Display for PremiumText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_pushed(f, |b| self.push_text(b))
    }
}

impl DayText {
    /// Appends the text to `o` (what `TraceValue::Day` shows).
    pub(crate) fn push_text(&self, o: &mut Vec<u8>) {
        push_decimal(
            o,
            &(self.regular + self.overtime + self.double_time).normalize(),
        );
        o.extend_from_slice(b" h: ");
        push_decimal(o, &self.regular.normalize());
        o.extend_from_slice(b" regular, ");
        push_decimal(o, &self.overtime.normalize());
        o.extend_from_slice(b" overtime, ");
        push_decimal(o, &self.double_time.normalize());
        o.extend_from_slice(b" double time");
        if self.seventh_day {
            o.extend_from_slice(b" (7th consecutive workday)");
        }
    }
}

/// One value in a trace: a number, a flag or a text. Texts built from values are kept as their
/// parts and formatted when serialized.
#[derive(Debug, Clone)]
pub enum TraceValue {
    Num(Decimal),
    Text(Str),
    Flag(bool),
    /// A date, as `YYYY-MM-DD`.
    Date(NaiveDate),
    /// A state code followed by a static text.
    State(crate::request::StateCode, &'static str),
    /// `name[index]`, e.g. `earnings[2]`.
    Indexed(&'static str, usize),
    Day(DayText),
    /// Boxed: rarer than the others and would make every value larger.
    Premium(Box<PremiumText>),
}

impl TraceValue {
    fn is_text(&self) -> bool {
        !matches!(self, TraceValue::Num(_) | TraceValue::Flag(_))
    }
}

impl fmt::Display for TraceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceValue::Num(d) => write!(f, "{d}"),
            TraceValue::Text(s) => f.write_str(s),
            TraceValue::Flag(b) => write!(f, "{b}"),
            TraceValue::Date(d) => write_date(f, *d),
            TraceValue::State(st, text) => {
                f.write_str(st.as_str())?;
                f.write_str(text)
            }
            TraceValue::Indexed(n, i) => write!(f, "{n}[{i}]"),
            TraceValue::Day(d) => fmt_pushed(f, |b| d.push_text(b)),
            TraceValue::Premium(p) => p.fmt(f),
        }
    }
}

impl PartialEq for TraceValue {
    fn eq(&self, other: &TraceValue) -> bool {
        match (self, other) {
            (TraceValue::Num(a), TraceValue::Num(b)) => a == b,
            (TraceValue::Flag(a), TraceValue::Flag(b)) => a == b,
            (TraceValue::Text(a), TraceValue::Text(b)) => a == b,
            (a, b) if a.is_text() && b.is_text() => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl Serialize for TraceValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TraceValue::Num(d) => crate::money::ser_money(d, s),
            TraceValue::Text(t) => s.serialize_str(t),
            TraceValue::Flag(b) => s.serialize_bool(*b),
            _ => s.collect_str(self),
        }
    }
}

/// What a serialized trace value reads back as.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawValue {
    Num(Decimal),
    Text(String),
    Flag(bool),
}

impl<'de> Deserialize<'de> for TraceValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match RawValue::deserialize(d)? {
            RawValue::Num(n) => TraceValue::Num(n),
            RawValue::Text(t) => TraceValue::Text(Cow::Owned(t)),
            RawValue::Flag(b) => TraceValue::Flag(b),
        })
    }
}

impl From<Decimal> for TraceValue {
    fn from(d: Decimal) -> Self {
        TraceValue::Num(d)
    }
}
impl From<&'static str> for TraceValue {
    fn from(s: &'static str) -> Self {
        TraceValue::Text(Cow::Borrowed(s))
    }
}
impl From<String> for TraceValue {
    fn from(s: String) -> Self {
        TraceValue::Text(Cow::Owned(s))
    }
}
impl From<bool> for TraceValue {
    fn from(b: bool) -> Self {
        TraceValue::Flag(b)
    }
}
impl From<NaiveDate> for TraceValue {
    fn from(d: NaiveDate) -> Self {
        TraceValue::Date(d)
    }
}
impl From<DayText> for TraceValue {
    fn from(d: DayText) -> Self {
        TraceValue::Day(d)
    }
}
impl From<PremiumText> for TraceValue {
    fn from(p: PremiumText) -> Self {
        TraceValue::Premium(Box::new(p))
    }
}

/// Ordered named values, serialized as a JSON object in insertion order (what a trace's
/// `inputs` and `steps` read back as, in the order the object lists them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(pub Vec<(Label, TraceValue)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of named values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Fields, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((k, v)) = m.next_entry::<String, TraceValue>()? {
                    out.push((Label::from(k), v));
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A rule-pack parameter used by a line, with its source citation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamUse {
    pub name: Str,
    pub value: TraceValue,
    pub source: Str,
}

/// How a line's exact value became its cents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rounding {
    #[serde(serialize_with = "crate::money::ser_money")]
    pub exact: Decimal,
    #[serde(serialize_with = "crate::money::ser_money")]
    pub rounded: Decimal,
    pub mode: Str,
}

/// A rounding as serialized (the same JSON as `Rounding`).
#[derive(Serialize)]
struct RoundingOut<'a> {
    #[serde(serialize_with = "crate::money::ser_money")]
    exact: Decimal,
    #[serde(serialize_with = "crate::money::ser_money")]
    rounded: Decimal,
    mode: &'a str,
}

/// A label inside a trace entry. An owned label is kept in the trace's `owned` list, so entries
/// own no heap memory and a trace's entry list is freed without per-entry drop glue.
#[derive(Debug, Clone, Copy)]
enum Key {
    Static(&'static str),
    Dated(&'static str, NaiveDate),
    /// Index into `LineTrace::owned` (an `Owned::Label` or `Owned::Text`).
    Owned(u32),
}

/// A value inside a trace entry (a `TraceValue` whose owned parts are kept aside, as for `Key`).
#[derive(Debug, Clone, Copy)]
enum Val {
    Num(Decimal),
    Text(&'static str),
    Flag(bool),
    Date(NaiveDate),
    State(crate::request::StateCode, &'static str),
    Indexed(&'static str, usize),
    Day(DayText),
    /// A short text copied into the entry (a `job` label: no allocation).
    Short(ShortText),
    /// Index into `LineTrace::owned` (an `Owned::Text` or `Owned::Premium`).
    Owned(u32),
}

/// A text of at most `ShortText::MAX` bytes kept inside a trace entry.
#[derive(Debug, Clone, Copy)]
struct ShortText {
    len: u8,
    buf: [u8; ShortText::MAX],
}

impl ShortText {
    /// Fits in a value without making it larger than a `DayText`.
    const MAX: usize = 48;
    fn new(s: &str) -> Option<ShortText> {
        let b = s.as_bytes();
        let mut buf = [0u8; ShortText::MAX];
        buf.get_mut(..b.len())?.copy_from_slice(b);
        Some(ShortText {
            len: b.len() as u8,
            buf,
        })
    }
    fn as_str(&self) -> &str {
        // A whole `&str` was copied in, so this is always valid UTF-8.
        self.buf
            .get(..usize::from(self.len))
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// One recorded item of a trace: an input, a parameter (name, value, source) or a step. A
/// trace keeps its inputs, parameters and steps in one list (one allocation per trace instead of
/// three); each group is serialized in the order it was recorded.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Input(Key, Val),
    Param(ParamKey, Val),
    Step(Key, Val),
    /// The rounding (exact, rounded, mode): kept in the list rather than in a field of its own,
    /// so a `LineTrace` is 120 bytes and moves without a `memcpy` call. The last one counts.
    Round(Decimal, Decimal, ModeKey),
    /// A step `workweek:{date}` with an overtime text (`step_week_premium`): kept in the entry,
    /// not in the owned list.
    WeekPremium(NaiveDate, PremiumText),
}

/// The label prefix of a `Slot::WeekPremium` step.
const WORKWEEK: &str = "workweek:";

/// A rounding mode's text (static, or kept aside: a trace read back).
#[derive(Debug, Clone, Copy)]
enum ModeKey {
    Static(&'static str),
    Owned(u32),
}

/// The rounding mode of every line this engine computes.
const HALF_AWAY_TO_CENTS: &str = "half_away_from_zero_to_cents";

/// A parameter's name and source (both static, or both kept aside: a trace read back).
#[derive(Debug, Clone, Copy)]
enum ParamKey {
    Static(&'static str, &'static str),
    Owned(u32, u32),
}

/// The owned text (or boxed value) of an entry, kept aside.
#[derive(Debug, Clone)]
enum Owned {
    Label(Box<str>),
    Text(String),
    Premium(PremiumText),
}

/// The explanation of one line of the result.
///
/// Serialized as `{line, rule, rule_pack?, inputs?, params?, steps?, rounding?}` where `inputs` and
/// `steps` are JSON objects in recording order and `params` a list; empty groups are left out.
#[derive(Debug, Clone)]
pub struct LineTrace {
    /// Which line this explains, e.g. `earning:overtime`, `tax:US_FIT`, `deduction:401k`.
    pub line: Label,
    /// Rule identifier, e.g. `us.fit.pub15t.percentage`.
    pub rule: Str,
    /// Rule pack (jurisdiction, year and version) the parameters came from, when any.
    pub rule_pack: Option<Str>,
    /// Inputs, parameters and steps in recording order (read them with `inputs`, `params`,
    /// `steps`).
    entries: Entries,
    /// Owned texts of the entries (usually none).
    owned: Vec<Owned>,
}

/// Entry lists are recycled through a small per-thread pool, by capacity class: 8 entries (a
/// short trace), 16, 32 or 64 (long traces: above glibc's 1,032-byte per-thread cache, such a
/// block takes the allocator's slow path both ways). At most `POOL_DEPTH[c]` lists are kept per
/// class; a paycheck makes about 15 short and 5 long traces.
const POOL_CLASSES: [usize; 4] = [8, 16, 32, 64];
const POOL_DEPTH: [usize; 4] = [32, 8, 8, 8];

thread_local! {
    /// Freed entry lists (empty, capacity kept), by class.
    static POOL: std::cell::RefCell<[Vec<Vec<Slot>>; 4]> =
        const { std::cell::RefCell::new([Vec::new(), Vec::new(), Vec::new(), Vec::new()]) };
}

/// A trace's entry list, taken from the per-thread pool and given back when the trace is dropped
/// (a paycheck's ≈ 20 lists then cost no `malloc` / `free` pair each once the pool is warm; the
/// serialized trace does not depend on a list's capacity).
#[derive(Debug)]
struct Entries(Vec<Slot>);

impl Entries {
    /// An empty list with room for `n` entries: pooled when one is free, else a new one of the
    /// class's capacity. `None` when `n` is above every class.
    #[inline]
    fn take(n: usize) -> Option<Vec<Slot>> {
        let class = match n {
            0..=8 => 0,
            9..=16 => 1,
            17..=32 => 2,
            33..=64 => 3,
            _ => return None,
        };
        let pooled = POOL
            .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p[class].pop()))
            .ok()
            .flatten();
        Some(pooled.unwrap_or_else(|| Vec::with_capacity(POOL_CLASSES[class])))
    }
}

impl Drop for Entries {
    #[inline(always)]
    fn drop(&mut self) {
        if self.0.capacity() >= POOL_CLASSES[0] {
            self.give_back();
        }
    }
}

impl Entries {
    /// Put a list back into the pool (freed instead when its class is full, when it is far
    /// larger than every class, or during thread teardown).
    #[inline]
    fn give_back(&mut self) {
        // Lists of a class's exact capacity (as `take` makes them, or grown by doubling).
        let class = match self.0.capacity() {
            8 => 0,
            16 => 1,
            32 => 2,
            64 => 3,
            _ => return,
        };
        let mut v = std::mem::take(&mut self.0);
        v.clear();
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut()
                && p[class].len() < POOL_DEPTH[class]
            {
                p[class].push(v);
            }
        });
    }
}

impl Clone for Entries {
    fn clone(&self) -> Self {
        Entries(self.0.clone())
    }
}

/// Entries kept when a trace's first entry is recorded without an explicit `reserve` (fits most
/// short traces in one allocation).
const FIRST_RESERVE: usize = 8;

impl LineTrace {
    pub fn new(line: impl Into<Label>, rule: &'static str) -> Self {
        LineTrace {
            line: line.into(),
            rule: Cow::Borrowed(rule),
            rule_pack: None,
            entries: Entries(Vec::new()),
            owned: Vec::new(),
        }
    }
    /// Reserve room for `inputs`, `params` and `steps` entries up front (a trace known to be
    /// long then takes one allocation instead of growing; a long list comes from the per-thread
    /// pool of freed long lists, see `Entries`).
    #[inline]
    pub fn reserve(&mut self, inputs: usize, params: usize, steps: usize) -> &mut Self {
        // One more for the rounding.
        let n = inputs + params + steps + 1;
        if self.entries.0.capacity() == 0
            && n > 0
            && let Some(v) = Entries::take(n)
        {
            self.entries.0 = v;
            return self;
        }
        self.entries.0.reserve_exact(n);
        self
    }
    pub fn pack(mut self, id: &'static str) -> Self {
        self.rule_pack = Some(Cow::Borrowed(id));
        self
    }
    #[inline(always)]
    fn push(&mut self, e: Slot) {
        if self.entries.0.capacity() == 0 {
            self.first_list();
        }
        self.entries.0.push(e);
    }
    /// The list for a trace's first entry recorded without `reserve`.
    #[inline(never)]
    fn first_list(&mut self) {
        match Entries::take(FIRST_RESERVE) {
            Some(v) => self.entries.0 = v,
            None => self.entries.0.reserve_exact(FIRST_RESERVE),
        }
    }
    #[cold]
    #[inline(never)]
    fn keep(&mut self, o: Owned) -> u32 {
        let i = self.owned.len() as u32;
        self.owned.push(o);
        i
    }
    #[inline(always)]
    fn key(&mut self, l: Label) -> Key {
        match l {
            Label::Static(s) => Key::Static(s),
            Label::Dated(p, d) => Key::Dated(p, d),
            Label::Owned(b) => Key::Owned(self.keep(Owned::Label(b))),
        }
    }
    fn param_key(&mut self, name: Str, source: Str) -> ParamKey {
        match (name, source) {
            (Cow::Borrowed(n), Cow::Borrowed(s)) => ParamKey::Static(n, s),
            (n, s) => ParamKey::Owned(
                self.keep(Owned::Text(n.into_owned())),
                self.keep(Owned::Text(s.into_owned())),
            ),
        }
    }
    #[inline(always)]
    fn val(&mut self, v: TraceValue) -> Val {
        match v {
            TraceValue::Num(d) => Val::Num(d),
            TraceValue::Text(Cow::Borrowed(s)) => Val::Text(s),
            TraceValue::Text(Cow::Owned(s)) => Val::Owned(self.keep(Owned::Text(s))),
            TraceValue::Flag(b) => Val::Flag(b),
            TraceValue::Date(d) => Val::Date(d),
            TraceValue::State(c, t) => Val::State(c, t),
            TraceValue::Indexed(n, i) => Val::Indexed(n, i),
            TraceValue::Day(d) => Val::Day(d),
            TraceValue::Premium(p) => Val::Owned(self.keep(Owned::Premium(*p))),
        }
    }
    #[inline(always)]
    pub fn input(&mut self, k: impl Into<Label>, v: impl Into<TraceValue>) -> &mut Self {
        let (k, v) = (self.key(k.into()), self.val(v.into()));
        self.push(Slot::Input(k, v));
        self
    }
    #[inline(always)]
    pub fn param(&mut self, name: &'static str, p: &'static crate::rules::Param) -> &mut Self {
        self.push(Slot::Param(
            ParamKey::Static(name, p.source.as_str()),
            Val::Num(p.value),
        ));
        self
    }
    #[inline(always)]
    pub fn param_value(
        &mut self,
        name: &'static str,
        value: impl Into<TraceValue>,
        source: &'static str,
    ) -> &mut Self {
        let v = self.val(value.into());
        self.push(Slot::Param(ParamKey::Static(name, source), v));
        self
    }
    #[inline(always)]
    pub fn step(&mut self, k: impl Into<Label>, v: impl Into<TraceValue>) -> &mut Self {
        let (k, v) = (self.key(k.into()), self.val(v.into()));
        self.push(Slot::Step(k, v));
        self
    }
    /// `input` with a text borrowed from the request (a `job` label): copied into the entry when
    /// short, else kept aside as an owned text. Reads back and serializes as that text.
    pub fn input_text(&mut self, k: &'static str, v: &str) -> &mut Self {
        let v = match ShortText::new(v) {
            Some(t) => Val::Short(t),
            None => Val::Owned(self.keep(Owned::Text(v.to_owned()))),
        };
        self.push(Slot::Input(Key::Static(k), v));
        self
    }
    /// `step(Label::Dated("workweek:", week_start), premium)`, kept inside the entry (an
    /// overtime line's per-week text; no owned list).
    pub fn step_week_premium(&mut self, week_start: NaiveDate, p: PremiumText) -> &mut Self {
        self.push(Slot::WeekPremium(week_start, p));
        self
    }
    /// `step` with an overtime text (kept without a box).
    pub fn step_premium(&mut self, k: impl Into<Label>, p: PremiumText) -> &mut Self {
        let k = self.key(k.into());
        let v = Val::Owned(self.keep(Owned::Premium(p)));
        self.push(Slot::Step(k, v));
        self
    }
    /// Round `exact` to cents (half away from zero), record it, return the cents.
    #[inline(always)]
    pub fn round(&mut self, exact: Decimal) -> Decimal {
        let rounded = crate::money::cents(exact);
        self.push(Slot::Round(
            crate::money::normalize(exact),
            rounded,
            ModeKey::Static(HALF_AWAY_TO_CENTS),
        ));
        rounded
    }
    /// How the line's exact value became its cents, if it was rounded.
    pub fn rounding(&self) -> Option<Rounding> {
        self.entries.0.iter().rev().find_map(|e| match *e {
            Slot::Round(exact, rounded, mode) => Some(Rounding {
                exact,
                rounded,
                mode: match mode {
                    ModeKey::Static(m) => Cow::Borrowed(m),
                    ModeKey::Owned(i) => Cow::Owned(self.text(i).to_owned()),
                },
            }),
            _ => None,
        })
    }
    /// Whether the line was rounded (`rounding().is_some()` without building it).
    pub fn is_rounded(&self) -> bool {
        self.entries.0.iter().any(|e| matches!(e, Slot::Round(..)))
    }
    /// The owned text at `i` (empty if `i` is not a text).
    fn text(&self, i: u32) -> &str {
        match self.owned.get(i as usize) {
            Some(Owned::Label(s)) => s,
            Some(Owned::Text(s)) => s,
            _ => "",
        }
    }
    fn label_of(&self, k: Key) -> Label {
        match k {
            Key::Static(s) => Label::Static(s),
            Key::Dated(p, d) => Label::Dated(p, d),
            Key::Owned(i) => Label::Owned(self.text(i).into()),
        }
    }
    /// A parameter's name and source.
    fn param_strs(&self, k: ParamKey) -> (Str, Str) {
        match k {
            ParamKey::Static(n, s) => (Cow::Borrowed(n), Cow::Borrowed(s)),
            ParamKey::Owned(n, s) => (
                Cow::Owned(self.text(n).to_owned()),
                Cow::Owned(self.text(s).to_owned()),
            ),
        }
    }
    fn value_of(&self, v: Val) -> TraceValue {
        match v {
            Val::Num(d) => TraceValue::Num(d),
            Val::Text(s) => TraceValue::Text(Cow::Borrowed(s)),
            Val::Flag(b) => TraceValue::Flag(b),
            Val::Date(d) => TraceValue::Date(d),
            Val::State(c, t) => TraceValue::State(c, t),
            Val::Indexed(n, i) => TraceValue::Indexed(n, i),
            Val::Day(d) => TraceValue::Day(d),
            Val::Short(t) => TraceValue::Text(Cow::Owned(t.as_str().to_owned())),
            Val::Owned(i) => match self.owned.get(i as usize) {
                Some(Owned::Premium(p)) => TraceValue::Premium(Box::new(*p)),
                _ => TraceValue::Text(Cow::Owned(self.text(i).to_owned())),
            },
        }
    }
    /// The inputs, in recording order.
    pub fn inputs(&self) -> impl Iterator<Item = (Label, TraceValue)> + '_ {
        self.entries.0.iter().filter_map(|e| match *e {
            Slot::Input(k, v) => Some((self.label_of(k), self.value_of(v))),
            _ => None,
        })
    }
    /// The parameters, in recording order.
    pub fn params(&self) -> impl Iterator<Item = ParamUse> + '_ {
        self.entries.0.iter().filter_map(|e| match *e {
            Slot::Param(k, v) => {
                let (name, source) = self.param_strs(k);
                Some(ParamUse {
                    name,
                    value: self.value_of(v),
                    source,
                })
            }
            _ => None,
        })
    }
    /// The steps, in recording order.
    pub fn steps(&self) -> impl Iterator<Item = (Label, TraceValue)> + '_ {
        self.entries.0.iter().filter_map(|e| match *e {
            Slot::Step(k, v) => Some((self.label_of(k), self.value_of(v))),
            Slot::WeekPremium(d, p) => {
                Some((Label::Dated(WORKWEEK, d), TraceValue::Premium(Box::new(p))))
            }
            _ => None,
        })
    }
    /// The input named `k`, if any.
    pub fn input_value(&self, k: &str) -> Option<TraceValue> {
        self.inputs().find(|(n, _)| *n == *k).map(|(_, v)| v)
    }
    /// The first step named `k`, if any.
    pub fn step_value(&self, k: &str) -> Option<TraceValue> {
        self.steps().find(|(n, _)| *n == *k).map(|(_, v)| v)
    }
}

impl PartialEq for LineTrace {
    /// Equal when the header, the rounding and each group (inputs, params, steps) are equal in
    /// order; how the groups interleave in the entries does not matter (the JSON does not show
    /// it).
    fn eq(&self, o: &LineTrace) -> bool {
        self.line == o.line
            && self.rule == o.rule
            && self.rule_pack == o.rule_pack
            && self.rounding() == o.rounding()
            && self.inputs().eq(o.inputs())
            && self.params().eq(o.params())
            && self.steps().eq(o.steps())
    }
}

/// An entry's label, serialized as its text.
struct KeyOut<'a>(&'a LineTrace, Key);

impl Serialize for KeyOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            Key::Static(x) => s.serialize_str(x),
            Key::Dated(p, d) => s.collect_str(&Label::Dated(p, d)),
            Key::Owned(i) => s.serialize_str(self.0.text(i)),
        }
    }
}

/// An entry's value, serialized as the `TraceValue` it was recorded from.
struct ValOut<'a>(&'a LineTrace, Val);

impl Serialize for ValOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            Val::Num(d) => crate::money::ser_money(&d, s),
            Val::Text(t) => s.serialize_str(t),
            Val::Flag(b) => s.serialize_bool(b),
            Val::Date(d) => s.collect_str(&TraceValue::Date(d)),
            Val::State(c, t) => s.collect_str(&TraceValue::State(c, t)),
            Val::Indexed(n, i) => s.collect_str(&TraceValue::Indexed(n, i)),
            Val::Day(d) => s.collect_str(&TraceValue::Day(d)),
            Val::Short(t) => s.serialize_str(t.as_str()),
            Val::Owned(i) => match self.0.owned.get(i as usize) {
                Some(Owned::Premium(p)) => s.collect_str(p),
                _ => s.serialize_str(self.0.text(i)),
            },
        }
    }
}

/// An overtime text, serialized as its formatted string.
struct PremiumOut(PremiumText);

impl Serialize for PremiumOut {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A parameter entry, serialized as its `ParamUse`.
struct ParamOut<'a>(&'a LineTrace, ParamKey, Val);

impl Serialize for ParamOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut q = s.serialize_struct("ParamUse", 3)?;
        let (name, source) = match self.1 {
            ParamKey::Static(n, s) => (n, s),
            ParamKey::Owned(n, s) => (self.0.text(n), self.0.text(s)),
        };
        q.serialize_field("name", name)?;
        q.serialize_field("value", &ValOut(self.0, self.2))?;
        q.serialize_field("source", source)?;
        q.end()
    }
}

/// One group of a trace's entries, serialized as a JSON object (`inputs`, `steps`) or list
/// (`params`).
struct Group<'a> {
    trace: &'a LineTrace,
    which: u8,
}

const INPUTS: u8 = 0;
const PARAMS: u8 = 1;
const STEPS: u8 = 2;

const ROUND: u8 = 3;

fn group_of(e: &Slot) -> u8 {
    match e {
        Slot::Input(..) => INPUTS,
        Slot::Param(..) => PARAMS,
        Slot::Step(..) | Slot::WeekPremium(..) => STEPS,
        Slot::Round(..) => ROUND,
    }
}

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let t = self.trace;
        if self.which == PARAMS {
            let mut q = s.serialize_seq(None)?;
            for e in &t.entries.0 {
                if let Slot::Param(k, v) = *e {
                    q.serialize_element(&ParamOut(t, k, v))?;
                }
            }
            return q.end();
        }
        let mut m = s.serialize_map(None)?;
        for e in &t.entries.0 {
            match *e {
                Slot::Input(k, v) if self.which == INPUTS => {
                    m.serialize_entry(&KeyOut(t, k), &ValOut(t, v))?
                }
                Slot::Step(k, v) if self.which == STEPS => {
                    m.serialize_entry(&KeyOut(t, k), &ValOut(t, v))?
                }
                Slot::WeekPremium(d, p) if self.which == STEPS => {
                    m.serialize_entry(&Label::Dated(WORKWEEK, d), &PremiumOut(p))?
                }
                _ => {}
            }
        }
        m.end()
    }
}

impl LineTrace {
    /// Which groups (`INPUTS`, `PARAMS`, `STEPS`, `ROUND`) have entries, and the rounding (the
    /// last one recorded): what both writers need before the first field.
    fn groups(&self) -> ([bool; 4], Option<(Decimal, Decimal, ModeKey)>) {
        let mut present = [false; 4];
        let mut rounding = None;
        for e in &self.entries.0 {
            present[usize::from(group_of(e))] = true;
            if let Slot::Round(exact, rounded, mode) = *e {
                rounding = Some((exact, rounded, mode));
            }
        }
        (present, rounding)
    }
}

impl Serialize for LineTrace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (present, rounding) = self.groups();
        let n = 2 + usize::from(self.rule_pack.is_some()) + present.iter().filter(|p| **p).count();
        let mut m = s.serialize_map(Some(n))?;
        m.serialize_entry("line", &self.line)?;
        m.serialize_entry("rule", &self.rule)?;
        if let Some(p) = &self.rule_pack {
            m.serialize_entry("rule_pack", p)?;
        }
        for (which, name) in [(INPUTS, "inputs"), (PARAMS, "params"), (STEPS, "steps")] {
            if present[usize::from(which)] {
                m.serialize_entry(name, &Group { trace: self, which })?;
            }
        }
        if let Some((exact, rounded, mode)) = rounding {
            let mode = match mode {
                ModeKey::Static(m) => m,
                ModeKey::Owned(i) => self.text(i),
            };
            m.serialize_entry(
                "rounding",
                &RoundingOut {
                    exact,
                    rounded,
                    mode,
                },
            )?;
        }
        m.end()
    }
}

/// The JSON writer (`PaycheckResult::to_json`): the same text as the `Serialize` impls above.
impl LineTrace {
    pub(crate) fn write_json(&self, j: &mut JsonOut) {
        let (present, rounding) = self.groups();
        j.open_obj();
        j.key("line");
        self.line.write_json(j);
        j.key("rule");
        j.str(&self.rule);
        if let Some(p) = &self.rule_pack {
            j.key("rule_pack");
            j.str(p);
        }
        if present[usize::from(INPUTS)] {
            j.key("inputs");
            j.open_obj();
            for e in &self.entries.0 {
                if let Slot::Input(k, v) = *e {
                    self.write_key(j, k);
                    self.write_val(j, v);
                }
            }
            j.close_obj();
        }
        if present[usize::from(PARAMS)] {
            j.key("params");
            j.open_arr();
            for e in &self.entries.0 {
                if let Slot::Param(k, v) = *e {
                    let (name, source) = match k {
                        ParamKey::Static(n, s) => (n, s),
                        ParamKey::Owned(n, s) => (self.text(n), self.text(s)),
                    };
                    j.elem();
                    j.open_obj();
                    j.key("name");
                    j.str(name);
                    j.key("value");
                    self.write_val(j, v);
                    j.key("source");
                    j.str(source);
                    j.close_obj();
                }
            }
            j.close_arr();
        }
        if present[usize::from(STEPS)] {
            j.key("steps");
            j.open_obj();
            for e in &self.entries.0 {
                match *e {
                    Slot::Step(k, v) => {
                        self.write_key(j, k);
                        self.write_val(j, v);
                    }
                    Slot::WeekPremium(d, p) => {
                        self.write_key(j, Key::Dated(WORKWEEK, d));
                        j.text(|o| p.push_text(o));
                    }
                    _ => {}
                }
            }
            j.close_obj();
        }
        if let Some((exact, rounded, mode)) = rounding {
            j.key("rounding");
            j.open_obj();
            j.key("exact");
            j.money(&exact);
            j.key("rounded");
            j.money(&rounded);
            j.key("mode");
            j.str(match mode {
                ModeKey::Static(m) => m,
                ModeKey::Owned(i) => self.text(i),
            });
            j.close_obj();
        }
        j.close_obj();
    }

    /// An entry's label as an object key.
    fn write_key(&self, j: &mut JsonOut, k: Key) {
        j.elem();
        match k {
            Key::Static(s) => j.str(s),
            Key::Dated(p, d) => j.dated(p, d),
            Key::Owned(i) => j.str(self.text(i)),
        }
        j.colon();
    }

    /// An entry's value (what `ValOut` serializes).
    fn write_val(&self, j: &mut JsonOut, v: Val) {
        match v {
            Val::Num(d) => j.money(&d),
            Val::Text(t) => j.str(t),
            Val::Flag(b) => j.bool(b),
            Val::Date(d) => j.date(d),
            Val::State(c, t) => j.text(|o| {
                o.extend_from_slice(c.as_str().as_bytes());
                o.extend_from_slice(t.as_bytes());
            }),
            Val::Indexed(n, i) => j.text(|o| {
                o.extend_from_slice(n.as_bytes());
                o.push(b'[');
                push_usize(o, i);
                o.push(b']');
            }),
            Val::Day(d) => j.text(|o| d.push_text(o)),
            Val::Short(t) => j.str(t.as_str()),
            Val::Owned(i) => match self.owned.get(i as usize) {
                Some(Owned::Premium(p)) => j.text(|o| p.push_text(o)),
                _ => j.str(self.text(i)),
            },
        }
    }
}

impl Label {
    pub(crate) fn write_json(&self, j: &mut JsonOut) {
        match self {
            Label::Static(s) => j.str(s),
            Label::Owned(s) => j.str(s),
            Label::Dated(p, d) => j.dated(p, *d),
        }
    }
}

/// The serialized shape, read back.
#[derive(Deserialize)]
struct RawTrace {
    line: Label,
    rule: Str,
    #[serde(default)]
    rule_pack: Option<Str>,
    #[serde(default)]
    inputs: Fields,
    #[serde(default)]
    params: Vec<ParamUse>,
    #[serde(default)]
    steps: Fields,
    #[serde(default)]
    rounding: Option<Rounding>,
}

impl<'de> Deserialize<'de> for LineTrace {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawTrace::deserialize(d)?;
        let mut t = LineTrace::new(r.line, "");
        t.rule = r.rule;
        t.rule_pack = r.rule_pack;
        t.entries.0.reserve_exact(
            r.inputs.0.len() + r.params.len() + r.steps.0.len() + usize::from(r.rounding.is_some()),
        );
        for (k, v) in r.inputs.0 {
            t.input(k, v);
        }
        for p in r.params {
            let k = t.param_key(p.name, p.source);
            let v = t.val(p.value);
            t.push(Slot::Param(k, v));
        }
        for (k, v) in r.steps.0 {
            t.step(k, v);
        }
        if let Some(r) = r.rounding {
            let mode = match r.mode {
                Cow::Borrowed(m) => ModeKey::Static(m),
                Cow::Owned(m) if m == HALF_AWAY_TO_CENTS => ModeKey::Static(HALF_AWAY_TO_CENTS),
                Cow::Owned(m) => ModeKey::Owned(t.keep(Owned::Text(m))),
            };
            t.push(Slot::Round(r.exact, r.rounded, mode));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rust_decimal::dec;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn labels_print_and_compare_as_their_text() {
        let d = date("2025-03-03");
        assert_eq!(Label::from("tax:US_SS"), "tax:US_SS");
        let owned = Label::from("tax:US_SS".to_string());
        assert!(owned != "tax:US_S");
        assert_eq!(owned, "tax:US_SS");
        assert!(std::mem::size_of::<Label>() <= 24);
        assert!(std::mem::size_of::<TraceValue>() <= 56);
        assert!(std::mem::size_of::<Slot>() <= 88);
        // At most 128 bytes: a trace moves with inline copies, not a `memcpy` call.
        assert!(std::mem::size_of::<LineTrace>() <= 128);
        assert_eq!(
            Label::Dated("hours:workweek:", d).to_string(),
            "hours:workweek:2025-03-03"
        );
        assert_eq!(
            Label::Dated("", date("0987-12-31")).to_string(),
            "0987-12-31"
        );
        assert_eq!(
            serde_json::to_string(&Label::Dated("workweek:", d)).unwrap(),
            "\"workweek:2025-03-03\""
        );
    }

    #[test]
    fn long_entry_lists_are_recycled_empty() {
        let build = |n: usize, base: i64| {
            let mut t = LineTrace::new("tax:US_FIT", "test.rule");
            t.reserve(0, 0, n);
            for i in 0..n {
                t.step("x", Decimal::new(base + i as i64, 2));
            }
            t
        };
        // A long trace's list goes back to the pool when dropped; the next long trace of the same
        // class gets it back empty, with room for at least what it reserved.
        let first = build(20, 0);
        let cap = first.entries.0.capacity();
        assert!(cap >= 20);
        drop(first);
        let second = build(14, 1000);
        assert!(second.entries.0.capacity() >= 14);
        assert_eq!(second.steps().count(), 14);
        assert_eq!(
            second.step_value("x"),
            Some(TraceValue::Num(Decimal::new(1000, 2)))
        );
        // The same JSON as a trace whose list never went through the pool.
        let mut plain = LineTrace::new("tax:US_FIT", "test.rule");
        for i in 0..14 {
            plain.step("x", Decimal::new(1000 + i, 2));
        }
        assert_eq!(
            serde_json::to_string(&second).unwrap(),
            serde_json::to_string(&plain).unwrap()
        );
        // A clone owns its own list.
        let c = second.clone();
        drop(second);
        assert_eq!(c.steps().count(), 14);
        // Lists longer than every class are not pooled, and still work.
        let big = build(100, 0);
        assert_eq!(big.steps().count(), 100);
    }

    #[test]
    fn borrowed_texts_read_back_like_owned_ones() {
        let long = "x".repeat(ShortText::MAX + 1);
        let accents = format!("{}é", "a".repeat(ShortText::MAX - 1)); // 49 bytes
        for text in ["", "server", "café ☕", long.as_str(), accents.as_str()] {
            let mut a = LineTrace::new("earning:regular", "test.rule");
            a.input_text("job", text).step("x", Decimal::ONE);
            let mut b = LineTrace::new("earning:regular", "test.rule");
            b.input("job", text.to_owned()).step("x", Decimal::ONE);
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&b).unwrap(),
                "{text}"
            );
            assert_eq!(a, b);
            assert_eq!(
                a.input_value("job"),
                Some(TraceValue::from(text.to_owned()))
            );
        }
        assert!(std::mem::size_of::<Slot>() <= 88);
    }

    #[test]
    fn texts_serialize_like_the_formatted_string() {
        let day = TraceValue::Day(DayText {
            regular: dec!(8.00),
            overtime: dec!(4),
            double_time: dec!(0.5),
            seventh_day: true,
        });
        assert_eq!(
            serde_json::to_string(&day).unwrap(),
            "\"12.5 h: 8 regular, 4 overtime, 0.5 double time (7th consecutive workday)\""
        );
        let p = TraceValue::from(PremiumText {
            hours: dec!(2.5),
            rate: dec!(17.50),
            double_time: false,
            regular_rate: dec!(17.5123456789),
            amount: dec!(65.6404321000),
        });
        let st = crate::request::StateCode::parse("TX").unwrap();
        assert_eq!(
            TraceValue::State(st, " has no tax").to_string(),
            "TX has no tax"
        );
        assert_eq!(
            p.to_string(),
            "2.5 × 17.50 + 0.5 × 17.512346 × 2.5 = 65.6404321"
        );
        assert_eq!(
            p,
            TraceValue::from("2.5 × 17.50 + 0.5 × 17.512346 × 2.5 = 65.6404321".to_string())
        );
        assert_eq!(
            serde_json::to_string(&TraceValue::Indexed("earnings", 3)).unwrap(),
            "\"earnings[3]\""
        );
        assert_eq!(
            serde_json::to_string(&TraceValue::Num(dec!(1.50))).unwrap(),
            "\"1.50\""
        );
        assert_ne!(TraceValue::Num(dec!(1)), TraceValue::from("1"));
    }
    #[test]
    fn week_premium_steps_match_the_generic_step() {
        let d = date("2025-03-10");
        let p = PremiumText {
            hours: dec!(4.25),
            rate: dec!(17.50),
            double_time: true,
            regular_rate: dec!(18.0333333333333333),
            amount: dec!(151.0166666666666665),
        };
        let mut a = LineTrace::new("earning:double_time", "r");
        a.step("formula", "f")
            .step_week_premium(d, p)
            .step("z", true);
        let mut b = LineTrace::new("earning:double_time", "r");
        b.step("formula", "f")
            .step_premium(Label::Dated("workweek:", d), p)
            .step("z", true);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_eq!(a, b);
        assert_eq!(
            a.step_value("workweek:2025-03-10"),
            b.step_value("workweek:2025-03-10")
        );
    }

    #[test]
    fn owned_parts_serialize_and_read_back() {
        let d = date("2025-03-03");
        let mut t = LineTrace::new(Label::Dated("hours:workweek:", d), "rule.x");
        t.input("job", "server".to_string())
            .input(Label::from("owned_key".to_string()), dec!(1.50))
            .param_value("rate", dec!(0.062), "IRC 3101(a)")
            .step(Label::Dated("day:", d), TraceValue::Date(d))
            .step("flag", true)
            .step_premium(
                Label::Dated("workweek:", d),
                PremiumText {
                    hours: dec!(2.5),
                    rate: dec!(17.50),
                    double_time: false,
                    regular_rate: dec!(17.5123456789),
                    amount: dec!(65.6404321000),
                },
            );
        t.round(dec!(65.6404321));
        let t = t.pack("US-2025@2025.1");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"line":"hours:workweek:2025-03-03","rule":"rule.x","rule_pack":"US-2025@2025.1","#,
                r#""inputs":{"job":"server","owned_key":"1.50"},"#,
                r#""params":[{"name":"rate","value":"0.062","source":"IRC 3101(a)"}],"#,
                r#""steps":{"day:2025-03-03":"2025-03-03","flag":true,"#,
                r#""workweek:2025-03-03":"2.5 × 17.50 + 0.5 × 17.512346 × 2.5 = 65.6404321"},"#,
                r#""rounding":{"exact":"65.6404321","rounded":"65.64","mode":"half_away_from_zero_to_cents"}}"#
            )
        );
        // (Read back, `inputs` and `steps` come in key order: these are recorded in key order.)
        let back: LineTrace = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        assert_eq!(t.clone(), t);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(back.input_value("job"), Some(TraceValue::from("server")));
        assert_eq!(
            back.params().next().map(|p| p.source),
            Some(Str::from("IRC 3101(a)"))
        );
        assert_eq!(t.steps().count(), 3);
    }
}
