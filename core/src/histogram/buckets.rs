//! Where buckets are: their boundaries (exponential schemas and custom
//! bounds), iteration over the spans of a histogram, and building span layouts
//! back from (index, count) pairs.

use super::{BucketSpan, FloatHistogram, CUSTOM_BUCKETS_SCHEMA};

/// Lowest exponential schema (each bucket spans a factor of 2^16).
pub const MIN_EXPONENTIAL_SCHEMA: i32 = -4;
/// Highest exponential schema (each power of two split into 256 buckets).
pub const MAX_EXPONENTIAL_SCHEMA: i32 = 8;

/// Whether `schema` is one of the exponential schemas -4..=8.
pub fn is_exponential_schema(schema: i32) -> bool {
    (MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA).contains(&schema)
}

/// One bucket with its bounds, as the bucket iterators yield it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Whether `lower` belongs to the bucket.
    pub lower_inclusive: bool,
    /// Whether `upper` belongs to the bucket.
    pub upper_inclusive: bool,
    /// Number of observations in the bucket.
    pub count: f64,
    /// Index of the bucket within its schema and sign (meaningless for the zero bucket).
    pub index: i32,
}

/// `2^(k/256) / 2` for k in 0..256, each correctly rounded to the nearest f64
/// (generated with 60-digit decimal arithmetic). Schema `s >= 0` uses every
/// `2^(8-s)`-th entry: these are the fractions of the bucket bounds within an
/// octave. (Prometheus's own table differs from these by 1–3 ulp in places.)
#[rustfmt::skip]
#[allow(clippy::approx_constant)] // Exact table values, some of which are 1/√2 and the like.
static OCTAVE_FRACTIONS: [f64; 256] = [
    0.5, 0.5013556375251013, 0.5027149505564014, 0.5040779490592088,
    0.5054446430258502, 0.5068150424757447, 0.5081891574554765, 0.509566998038869,
    0.5109485743270583, 0.5123338964485679, 0.5137229745593819, 0.5151158188430205,
    0.5165124395106142, 0.5179128468009786, 0.5193170509806894, 0.520725062344158,
    0.5221368912137069, 0.5235525479396449, 0.5249720429003436, 0.5263953865023132,
    0.5278225891802786, 0.5292536613972564, 0.530688613644631, 0.5321274564422322,
    0.5335702003384118, 0.5350168559101209, 0.5364674337629878, 0.5379219445313955,
    0.5393803988785599, 0.5408428074966076, 0.5423091811066546, 0.5437795304588848,
    0.5452538663326288, 0.5467321995364429, 0.5482145409081884, 0.549700901315111,
    0.5511912916539204, 0.5526857228508706, 0.5541842058618394, 0.5556867516724088,
    0.5571933712979462, 0.5587040757836846, 0.5602188762048034, 0.56173778366651,
    0.5632608093041209, 0.564787964283144, 0.5663192597993596, 0.5678547070789027,
    0.5693943173783458, 0.5709381019847808, 0.5724860722159021, 0.5740382394200895,
    0.5755946149764913, 0.577155210295108, 0.5787200368168756, 0.5802891060137494,
    0.5818624293887887, 0.5834400184762408, 0.5850218848416251, 0.5866080400818187,
    0.5881984958251406, 0.5897932637314379, 0.5913923554921705, 0.5929957828304969,
    0.5946035575013605, 0.5962156912915756, 0.5978321960199137, 0.5994530835371903,
    0.6010783657263515, 0.6027080545025619, 0.6043421618132908, 0.6059806996384006,
    0.6076236799902345, 0.6092711149137042, 0.6109230164863788, 0.6125793968185728,
    0.614240268053435, 0.6159056423670379, 0.6175755319684667, 0.6192499490999083,
    0.620928906036742, 0.622612415087629, 0.6243004885946024, 0.6259931389331581,
    0.6276903785123455, 0.6293922197748583, 0.6310986751971254, 0.6328097572894031,
    0.6345254785958666, 0.6362458516947014, 0.637970889198196, 0.6397006037528347,
    0.6414350080393891, 0.6431741147730128, 0.6449179367033329, 0.6466664866145447,
    0.6484197773255048, 0.6501778216898253, 0.6519406325959679, 0.6537082229673387,
    0.6554806057623822, 0.6572577939746773, 0.659039800633032, 0.6608266388015788,
    0.6626183215798707, 0.6644148621029772, 0.6662162735415808, 0.6680225691020729,
    0.6698337620266515, 0.6716498655934177, 0.6734708931164729, 0.6752968579460172,
    0.6771277734684463, 0.6789636531064506, 0.6808045103191124, 0.682650358602006,
    0.6845012114872953, 0.6863570825438342, 0.6882179853772651, 0.690083933630119,
    0.691954940981916, 0.6938310211492645, 0.6957121878859631, 0.6975984549831001,
    0.6994898362691556, 0.7013863456101024, 0.7032879969095077, 0.7051948041086353,
    0.7071067811865476, 0.7090239421602076, 0.7109463010845828, 0.7128738720527471,
    0.714806669195985, 0.7167447066838945, 0.7186879987244912, 0.7206365595643128,
    0.7225904034885233, 0.7245495448210175, 0.7265139979245263, 0.7284837772007219,
    0.7304588970903235, 0.7324393720732029, 0.7344252166684909, 0.7364164454346838,
    0.7384130729697497, 0.7404151139112359, 0.7424225829363762, 0.7444354947621985,
    0.7464538641456324, 0.7484777058836177, 0.7505070348132128, 0.7525418658117032,
    0.7545822137967114, 0.7566280937263049, 0.7586795205991074, 0.7607365094544073,
    0.7627990753722692, 0.7648672334736435, 0.766940998920478, 0.7690203869158284,
    0.7711054127039704, 0.7731960915705107, 0.7752924388425, 0.7773944698885443,
    0.7795022001189185, 0.7816156449856788, 0.7837348199827765, 0.7858597406461707,
    0.7879904225539432, 0.7901268813264123, 0.7922691326262469, 0.794417192158582,
    0.7965710756711335, 0.7987307989543135, 0.8008963778413467, 0.8030678282083855,
    0.8052451659746271, 0.8074284071024304, 0.8096175675974319, 0.8118126635086644,
    0.8140137109286739, 0.8162207259936375, 0.8184337248834822, 0.8206527238220032,
    0.8228777390769825, 0.8251087869603089, 0.8273458838280972, 0.8295890460808081,
    0.8318382901633682, 0.8340936325652912, 0.8363550898207983, 0.8386226785089392,
    0.8408964152537145, 0.8431763167241967, 0.8454623996346526, 0.8477546807446663,
    0.8500531768592617, 0.8523579048290256, 0.8546688815502315, 0.856986123964963,
    0.859309649061239, 0.861639473873137, 0.8639756154809188, 0.8663180910111555,
    0.8686669176368531, 0.8710221125775782, 0.8733836930995845, 0.8757516765159391,
    0.8781260801866497, 0.880506921518792, 0.8828942179666364, 0.8852879870317774,
    0.8876882462632606, 0.8900950132577122, 0.8925083056594675, 0.8949281411607005,
    0.8973545375015536, 0.8997875124702676, 0.902227083903312, 0.904673269685516,
    0.9071260877501994, 0.9095855560793042, 0.9120516927035267, 0.9145245157024486,
    0.9170040432046712, 0.9194902933879469, 0.921983284479313, 0.9244830347552254,
    0.9269895625416927, 0.9295028862144102, 0.9320230241988945, 0.9345499949706193,
    0.93708381705515, 0.9396245090282801, 0.9421720895161673, 0.9447265771954696,
    0.9472879907934828, 0.9498563490882777, 0.9524316709088371, 0.9550139751351949,
    0.9576032806985737, 0.9601996065815237, 0.9628029718180625, 0.9654133954938136,
    0.9680308967461472, 0.9706554947643202, 0.9732872087896166, 0.9759260581154892,
    0.9785720620877001, 0.9812252401044637, 0.9838856116165879, 0.9865531961276172,
    0.9892280131939755, 0.9919100824251097, 0.9945994234836332, 0.9972960560854701,
];

/// `frac * 2^exp`, exact unless the result is subnormal (one rounding) or out of range.
fn ldexp(frac: f64, exp: i64) -> f64 {
    fn pow2(e: i64) -> f64 {
        debug_assert!((-1022..=1023).contains(&e));
        f64::from_bits(((e + 1023) as u64) << 52)
    }
    let exp = exp.clamp(-2200, 2200);
    if exp > 1023 {
        frac * pow2(1023) * pow2((exp - 1023).min(1023))
    } else if exp < -1022 {
        // Scale into the normal range first so that only the last step rounds.
        let first = (exp + 600).max(-1022);
        frac * pow2(first) * pow2(exp - first)
    } else {
        frac * pow2(exp)
    }
}

/// Upper bound of bucket `index` in exponential `schema` (-4..=8): `base^index`
/// with `base = 2^(2^-schema)`. The last finite bucket ends at `f64::MAX`
/// rather than +Inf, so that +Inf observations get a bucket of their own.
pub fn exponential_bound(index: i32, schema: i32) -> f64 {
    let index = i64::from(index);
    if schema < 0 {
        let exp = index << (-schema).min(32);
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let schema = schema.min(MAX_EXPONENTIAL_SCHEMA);
    let frac = OCTAVE_FRACTIONS[((index & ((1 << schema) - 1)) << (MAX_EXPONENTIAL_SCHEMA - schema)) as usize];
    let exp = (index >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// Upper bound of positive bucket `index`: exponential, or for custom buckets
/// `custom_values[index]` (the bucket after the last bound reaches +Inf, and
/// "bucket -1" ends at -Inf).
pub fn bucket_bound(index: i32, schema: i32, custom_values: &[f64]) -> f64 {
    if schema != CUSTOM_BUCKETS_SCHEMA {
        return exponential_bound(index, schema);
    }
    match usize::try_from(index) {
        Ok(i) if i < custom_values.len() => custom_values[i],
        Ok(_) => f64::INFINITY,
        Err(_) => f64::NEG_INFINITY,
    }
}

/// The bucket index in `target` schema (≤ `schema`) that bucket `index` of
/// `schema` falls into when resolution is reduced.
pub fn index_in_schema(index: i32, schema: i32, target: i32) -> i32 {
    // In i64 with a bounded shift, so that no index or schema can overflow.
    let shift = (i64::from(schema) - i64::from(target)).clamp(0, 62);
    (((i64::from(index) - 1) >> shift) + 1) as i32
}

/// Iterates the (index, count) pairs that spans and buckets describe, in
/// ascending index order. Stops early if the buckets run out (an inconsistent
/// histogram must not panic).
#[derive(Debug, Clone)]
pub struct SpanIter<'a> {
    spans: &'a [BucketSpan],
    buckets: &'a [f64],
    span: usize,
    in_span: u32,
    bucket: usize,
    index: i32,
}

impl<'a> SpanIter<'a> {
    /// Iterates `buckets` laid out by `spans`.
    pub fn new(spans: &'a [BucketSpan], buckets: &'a [f64]) -> Self {
        let index = spans.first().map_or(0, |s| s.offset);
        SpanIter { spans, buckets, span: 0, in_span: 0, bucket: 0, index }
    }
}

impl Iterator for SpanIter<'_> {
    type Item = (i32, f64);

    fn next(&mut self) -> Option<(i32, f64)> {
        while self.span < self.spans.len() && self.in_span >= self.spans[self.span].length {
            self.span += 1;
            self.in_span = 0;
            if let Some(next) = self.spans.get(self.span) {
                self.index = self.index.saturating_add(next.offset);
            }
        }
        if self.span >= self.spans.len() {
            return None;
        }
        let count = *self.buckets.get(self.bucket)?;
        let item = (self.index, count);
        self.bucket += 1;
        self.in_span += 1;
        self.index = self.index.saturating_add(1);
        Some(item)
    }
}

/// Iterates the (index, count) pairs of spans and buckets in descending index order.
fn span_iter_rev<'a>(spans: &'a [BucketSpan], buckets: &'a [f64]) -> impl Iterator<Item = (i32, f64)> + 'a {
    let pairs: Vec<(i32, f64)> = SpanIter::new(spans, buckets).collect();
    pairs.into_iter().rev()
}

/// The most empty buckets a [`LayoutBuilder`] writes out to join two runs.
/// Valid histograms never need more (schema 8 spans about ±2^18 indices);
/// it keeps absurd indices from allocating gigabytes.
const MAX_FILLED_GAP: i64 = 1 << 20;

/// Builds spans and buckets from (index, count) pairs pushed in ascending
/// index order. Buckets at most `max_gap` indices apart share a span (the gap
/// is filled with empty buckets).
#[derive(Debug, Default)]
pub struct LayoutBuilder {
    spans: Vec<BucketSpan>,
    buckets: Vec<f64>,
    last: Option<i32>,
    max_gap: u32,
}

impl LayoutBuilder {
    /// A builder that joins buckets into one span when at most `max_gap` empty
    /// buckets lie between them.
    pub fn new(max_gap: u32) -> Self {
        LayoutBuilder { max_gap, ..Default::default() }
    }

    /// Appends bucket `index`, which should be greater than any pushed
    /// before; a lower or equal index (only from inconsistent spans) is added
    /// to the last bucket rather than corrupting the layout.
    pub fn push(&mut self, index: i32, count: f64) {
        match self.last {
            Some(last) if index <= last => {
                *self.buckets.last_mut().expect("a bucket exists once one was pushed") += count;
                return;
            }
            Some(last) => {
                let gap = i64::from(index) - i64::from(last) - 1;
                let span = self.spans.last_mut().expect("a span exists once a bucket was pushed");
                if gap <= i64::from(self.max_gap) && gap <= MAX_FILLED_GAP {
                    self.buckets.extend(std::iter::repeat_n(0.0, gap as usize));
                    span.length += gap as u32 + 1;
                } else {
                    // Indices are i32, so the gap between two of them fits unless they are absurd.
                    self.spans.push(BucketSpan { offset: i32::try_from(gap).unwrap_or(i32::MAX), length: 1 });
                }
            }
            None => self.spans.push(BucketSpan { offset: index, length: 1 }),
        }
        self.buckets.push(count);
        self.last = Some(index);
    }

    /// Adds `count` to the bucket pushed last, or pushes bucket `index` if it is new.
    pub fn add(&mut self, index: i32, count: f64) {
        if self.last == Some(index) {
            *self.buckets.last_mut().expect("a bucket exists") += count;
        } else {
            self.push(index, count);
        }
    }

    /// The spans and buckets built.
    pub fn finish(self) -> (Vec<BucketSpan>, Vec<f64>) {
        (self.spans, self.buckets)
    }
}

/// Removes empty buckets and joins spans at most `max_empty` buckets apart:
/// the result of Prometheus's `Compact(max_empty)`.
pub(crate) fn compact_side(spans: &[BucketSpan], buckets: &[f64], max_empty: u32) -> (Vec<BucketSpan>, Vec<f64>) {
    let mut out = LayoutBuilder::new(max_empty);
    for (index, count) in SpanIter::new(spans, buckets) {
        if count != 0.0 {
            out.push(index, count);
        }
    }
    out.finish()
}

/// Whether two span lists describe the same bucket indices, ignoring how they
/// are cut into spans.
pub(crate) fn same_layout(a: &[BucketSpan], b: &[BucketSpan]) -> bool {
    let indices = |spans: &[BucketSpan]| {
        // The first offset is absolute, the others relative to the previous span's end.
        let mut next = 0i64;
        let mut out = Vec::with_capacity(spans.len());
        for s in spans {
            next += i64::from(s.offset);
            out.push((next, s.length));
            next += i64::from(s.length);
        }
        out
    };
    let runs = |spans: &[BucketSpan]| {
        // Merge adjacent and drop empty runs, so only the covered indices matter.
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (start, len) in indices(spans) {
            if len == 0 {
                continue;
            }
            let end = start + i64::from(len);
            match merged.last_mut() {
                Some((_, e)) if *e == start => *e = end,
                _ => merged.push((start, end)),
            }
        }
        merged
    };
    runs(a) == runs(b)
}

impl FloatHistogram {
    /// The (index, count) pairs of the positive buckets, ascending.
    pub fn positive_indexed(&self) -> SpanIter<'_> {
        SpanIter::new(&self.positive_spans, &self.positive_buckets)
    }

    /// The (index, count) pairs of the negative buckets, ascending by index
    /// (i.e. descending by value).
    pub fn negative_indexed(&self) -> SpanIter<'_> {
        SpanIter::new(&self.negative_spans, &self.negative_buckets)
    }

    /// Upper bound of positive bucket `index` in this histogram's schema.
    pub fn bound(&self, index: i32) -> f64 {
        bucket_bound(index, self.schema, &self.custom_values)
    }

    fn positive_bucket(&self, index: i32, count: f64) -> Bucket {
        let lower = self.bound(index.saturating_sub(1));
        let upper = self.bound(index);
        let (lower_inclusive, upper_inclusive) =
            if self.uses_custom_buckets() { (index == 0, true) } else { (lower < 0.0, upper > 0.0) };
        Bucket { lower, upper, lower_inclusive, upper_inclusive, count, index }
    }

    fn negative_bucket(&self, index: i32, count: f64) -> Bucket {
        let lower = -self.bound(index);
        let upper = -self.bound(index.saturating_sub(1));
        Bucket { lower, upper, lower_inclusive: lower < 0.0, upper_inclusive: upper > 0.0, count, index }
    }

    /// The zero bucket `[-zero_threshold, zero_threshold]`.
    pub fn zero_bucket(&self) -> Bucket {
        Bucket {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: self.zero_count,
            index: 0,
        }
    }

    /// Positive buckets with their bounds, ascending.
    pub fn positive_buckets_iter(&self) -> impl Iterator<Item = Bucket> + '_ {
        self.positive_indexed().map(|(i, c)| self.positive_bucket(i, c))
    }

    /// Negative buckets with their bounds, from the zero bucket downwards.
    pub fn negative_buckets_iter(&self) -> impl Iterator<Item = Bucket> + '_ {
        self.negative_indexed().map(|(i, c)| self.negative_bucket(i, c))
    }

    /// Clips a bucket that overlaps the zero bucket to the zero threshold.
    pub(crate) fn clip_to_zero_bucket(&self, mut b: Bucket) -> Bucket {
        let t = self.zero_threshold;
        if b.lower > 0.0 && b.lower < t {
            b.lower = t;
        }
        if b.upper < 0.0 && b.upper > -t {
            b.upper = -t;
        }
        b
    }

    /// The zero bucket, if it holds observations.
    fn populated_zero_bucket(&self) -> Option<Bucket> {
        (self.zero_count > 0.0).then(|| self.zero_bucket())
    }

    /// All buckets in ascending order of value: negative, zero (if populated),
    /// positive. Buckets overlapping the zero bucket are clipped to it.
    pub fn all_buckets(&self) -> impl Iterator<Item = Bucket> + '_ {
        let negative =
            span_iter_rev(&self.negative_spans, &self.negative_buckets).map(|(i, c)| self.negative_bucket(i, c));
        negative
            .chain(self.populated_zero_bucket())
            .chain(self.positive_buckets_iter())
            .map(|b| self.clip_to_zero_bucket(b))
    }

    /// All buckets in descending order of value: positive, zero (if
    /// populated), negative.
    pub fn all_buckets_rev(&self) -> impl Iterator<Item = Bucket> + '_ {
        let positive =
            span_iter_rev(&self.positive_spans, &self.positive_buckets).map(|(i, c)| self.positive_bucket(i, c));
        positive
            .chain(self.populated_zero_bucket())
            .chain(self.negative_buckets_iter())
            .map(|b| self.clip_to_zero_bucket(b))
    }

    /// Removes empty buckets and joins spans at most `max_empty` buckets apart
    /// (Prometheus's `Compact`). Use 0 for the canonical form.
    pub fn compact(&mut self, max_empty: u32) {
        (self.positive_spans, self.positive_buckets) =
            compact_side(&self.positive_spans, &self.positive_buckets, max_empty);
        (self.negative_spans, self.negative_buckets) =
            compact_side(&self.negative_spans, &self.negative_buckets, max_empty);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(pairs: &[(i32, u32)]) -> Vec<BucketSpan> {
        pairs.iter().map(|&(offset, length)| BucketSpan { offset, length }).collect()
    }

    #[test]
    fn exponential_bounds_follow_the_schema_base() {
        // Schema 0: base 2; schema 1: base sqrt(2); schema -1: base 4.
        assert_eq!(exponential_bound(0, 0), 1.0);
        assert_eq!(exponential_bound(1, 0), 2.0);
        assert_eq!(exponential_bound(-1, 0), 0.5);
        assert_eq!(exponential_bound(3, 0), 8.0);
        assert!((exponential_bound(1, 1) - std::f64::consts::SQRT_2).abs() < 1e-15);
        assert_eq!(exponential_bound(2, 1), 2.0);
        assert_eq!(exponential_bound(1, -1), 4.0);
        assert_eq!(exponential_bound(-2, -2), 1.0 / 256.0);
        // Schema 8 bucket 1: 2^(1/256).
        assert!((exponential_bound(1, 8) - 2f64.powf(1.0 / 256.0)).abs() < 1e-15);
        // Schema 3 bucket -5: 2^(-5/8).
        assert!((exponential_bound(-5, 3) - 2f64.powf(-5.0 / 8.0)).abs() < 1e-15);
        // The correctly rounded 1/sqrt(2) for schema 1, bucket 0's lower bound.
        assert_eq!(exponential_bound(-1, 1), std::f64::consts::FRAC_1_SQRT_2);
    }

    #[test]
    fn the_last_finite_bucket_ends_at_f64_max() {
        assert_eq!(exponential_bound(1024, 0), f64::MAX);
        assert_eq!(exponential_bound(1025, 0), f64::INFINITY);
        assert_eq!(exponential_bound(256, -2), f64::MAX);
        assert_eq!(exponential_bound(1024 << 8, 8), f64::MAX);
        assert_eq!(exponential_bound(-1074, 0), f64::from_bits(1)); // smallest subnormal
        assert_eq!(exponential_bound(-1100, 0), 0.0);
        assert_eq!(exponential_bound(i32::MAX, 8), f64::INFINITY);
    }

    #[test]
    fn custom_bounds_reach_from_minus_to_plus_infinity() {
        let cv = [5.0, 10.0];
        assert_eq!(bucket_bound(-1, CUSTOM_BUCKETS_SCHEMA, &cv), f64::NEG_INFINITY);
        assert_eq!(bucket_bound(0, CUSTOM_BUCKETS_SCHEMA, &cv), 5.0);
        assert_eq!(bucket_bound(1, CUSTOM_BUCKETS_SCHEMA, &cv), 10.0);
        assert_eq!(bucket_bound(2, CUSTOM_BUCKETS_SCHEMA, &cv), f64::INFINITY);
    }

    #[test]
    fn indices_map_to_coarser_schemas() {
        // Schema 1 buckets 1 and 2 ((1,√2], (√2,2]) both fall into schema 0 bucket 1.
        assert_eq!(index_in_schema(1, 1, 0), 1);
        assert_eq!(index_in_schema(2, 1, 0), 1);
        assert_eq!(index_in_schema(3, 1, 0), 2);
        assert_eq!(index_in_schema(0, 1, 0), 0);
        assert_eq!(index_in_schema(-1, 1, 0), 0);
        assert_eq!(index_in_schema(-2, 1, 0), -1);
        assert_eq!(index_in_schema(9, 3, 0), 2);
        assert_eq!(index_in_schema(i32::MIN, 8, -4), (((i32::MIN as i64) - 1) >> 12) as i32 + 1);
    }

    #[test]
    fn span_iteration_handles_gaps_negative_offsets_and_empty_spans() {
        let s = spans(&[(-2, 2), (0, 0), (3, 1)]);
        let b = [1.0, 2.0, 3.0];
        let got: Vec<_> = SpanIter::new(&s, &b).collect();
        assert_eq!(got, vec![(-2, 1.0), (-1, 2.0), (3, 3.0)]);
        // Fewer buckets than the spans promise: stop, don't panic.
        let got: Vec<_> = SpanIter::new(&s, &b[..1]).collect();
        assert_eq!(got, vec![(-2, 1.0)]);
        assert_eq!(SpanIter::new(&[], &[]).count(), 0);
    }

    #[test]
    fn layout_builder_joins_close_buckets() {
        let mut b = LayoutBuilder::new(1);
        for (i, c) in [(0, 1.0), (2, 2.0), (5, 3.0), (6, 4.0)] {
            b.push(i, c);
        }
        let (s, bk) = b.finish();
        assert_eq!(s, spans(&[(0, 3), (2, 2)]));
        assert_eq!(bk, vec![1.0, 0.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn layout_builder_survives_inconsistent_input() {
        let mut b = LayoutBuilder::new(u32::MAX);
        for (i, c) in [(-5, 1.0), (-7, 2.0), (10_000_000, 3.0)] {
            b.push(i, c);
        }
        let (s, bk) = b.finish();
        // The out-of-order bucket joins the one before; the huge gap is not filled.
        assert_eq!(s, spans(&[(-5, 1), (10_000_004, 1)]));
        assert_eq!(bk, vec![3.0, 3.0]);
    }

    #[test]
    fn compact_drops_empty_buckets_and_merges_spans() {
        let mut h = FloatHistogram {
            positive_spans: spans(&[(0, 4), (0, 1), (2, 2)]),
            positive_buckets: vec![0.0, 1.0, 0.0, 2.0, 3.0, 0.0, 4.0],
            ..Default::default()
        };
        let mut h0 = h.clone();
        h0.compact(0);
        assert_eq!(h0.positive_spans, spans(&[(1, 1), (1, 2), (3, 1)]));
        assert_eq!(h0.positive_buckets, vec![1.0, 2.0, 3.0, 4.0]);
        h.compact(u32::MAX);
        assert_eq!(h.positive_spans, spans(&[(1, 8)]));
        assert_eq!(h.positive_buckets, vec![1.0, 0.0, 2.0, 3.0, 0.0, 0.0, 0.0, 4.0]);
        assert!(same_layout(&spans(&[(0, 2), (0, 1)]), &spans(&[(0, 3)])));
        assert!(same_layout(&spans(&[(0, 0), (2, 1)]), &spans(&[(2, 1)])));
        assert!(!same_layout(&spans(&[(0, 2)]), &spans(&[(1, 2)])));
    }

    #[test]
    fn all_buckets_run_from_negative_through_zero_to_positive() {
        let h = FloatHistogram {
            zero_threshold: 0.001,
            zero_count: 3.0,
            positive_spans: spans(&[(0, 2)]),
            positive_buckets: vec![1.0, 2.0],
            negative_spans: spans(&[(0, 2)]),
            negative_buckets: vec![4.0, 5.0],
            ..Default::default()
        };
        let asc: Vec<_> = h.all_buckets().map(|b| (b.lower, b.upper, b.count)).collect();
        assert_eq!(
            asc,
            vec![(-2.0, -1.0, 5.0), (-1.0, -0.5, 4.0), (-0.001, 0.001, 3.0), (0.5, 1.0, 1.0), (1.0, 2.0, 2.0)]
        );
        let desc: Vec<_> = h.all_buckets_rev().map(|b| b.count).collect();
        assert_eq!(desc, vec![2.0, 1.0, 3.0, 4.0, 5.0]);
        let first = h.all_buckets().next().unwrap();
        assert!(first.lower_inclusive && !first.upper_inclusive);
        let last = h.all_buckets().last().unwrap();
        assert!(!last.lower_inclusive && last.upper_inclusive);
    }

    #[test]
    fn buckets_overlapping_the_zero_bucket_are_clipped() {
        // Bucket (0.5, 1] with a zero threshold of 0.7 starts at 0.7.
        let h = FloatHistogram {
            zero_threshold: 0.7,
            positive_spans: spans(&[(0, 1)]),
            positive_buckets: vec![1.0],
            negative_spans: spans(&[(0, 1)]),
            negative_buckets: vec![1.0],
            ..Default::default()
        };
        let got: Vec<_> = h.all_buckets().map(|b| (b.lower, b.upper)).collect();
        assert_eq!(got, vec![(-1.0, -0.7), (0.7, 1.0)]);
    }

    #[test]
    fn custom_buckets_are_closed_at_the_top_and_open_at_minus_infinity() {
        let h = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            custom_values: vec![5.0, 10.0],
            positive_spans: spans(&[(0, 3)]),
            positive_buckets: vec![1.0, 2.0, 3.0],
            ..Default::default()
        };
        let got: Vec<_> = h.all_buckets().map(|b| (b.lower, b.upper, b.lower_inclusive, b.upper_inclusive)).collect();
        assert_eq!(
            got,
            vec![(f64::NEG_INFINITY, 5.0, true, true), (5.0, 10.0, false, true), (10.0, f64::INFINITY, false, true)]
        );
    }
}
