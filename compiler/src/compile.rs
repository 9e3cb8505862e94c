//! The compile driver: the scale, the limb width and the layout width chosen for a model.

use crate::circuit::ModelCircuit;
use crate::{cost, onnx, Accuracy, Error, Model, ParamVisibility, Settings, SettingsFormat, Visibility};
use serde::{Deserialize, Serialize};
use zkinfer_circuits::gadgets::Shape;
use zkinfer_circuits::{Pass, Synthesis};

/// What compilation chose and measured, saved beside the settings for people to read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub k: u32,
    pub rows_used: usize,
    pub usable_rows: usize,
    pub advice_columns: usize,
    pub fixed_columns: usize,
    pub lookups: usize,
    pub permutation_columns: usize,
    pub max_degree: usize,
    pub input_shapes: Vec<Vec<usize>>,
    pub output_shapes: Vec<Vec<usize>>,
    pub public_values: usize,
    /// The largest magnitude a range check saw on the calibration data, and the bound the
    /// circuit allows.
    pub calibration_largest: i64,
    pub range_bound: i64,
    pub calibration_samples: usize,
    /// What the width was chosen for; `None` when it was given. Reports written before the
    /// choice existed read as `None`.
    #[serde(default)]
    pub width_chosen_for: Option<Optimize>,
    /// The cost model's estimates for this layout (docs/circuits.md): CPU seconds of one
    /// proof on the 2-core development machine, and gas of one call to the Solidity verifier.
    #[serde(default)]
    pub estimated_prove_cpu_seconds: f64,
    #[serde(default)]
    pub estimated_verify_gas: u64,
    /// Powers of tau the layout needs (`Layout::srs_powers`); 0 in reports written before
    /// packing, whose layouts needed `2^k + 1`.
    #[serde(default)]
    pub srs_powers: usize,
    /// The cost model's estimate of one proof's peak memory, in bytes (`cost::prove_memory_bytes`);
    /// 0 in reports written before it.
    #[serde(default)]
    pub estimated_prove_memory_bytes: u64,
    /// The quantized model against the float model on the calibration samples; `None`
    /// without samples.
    #[serde(default)]
    pub accuracy: Option<Accuracy>,
    /// The largest magnitude any range check can meet for an input within
    /// `Settings::input_ranges` (interval bounds), which the range holds: then every such
    /// input proves. `None` where they could not be bounded, with the reason in `unbounded`.
    #[serde(default)]
    pub bounded_largest: Option<i64>,
    #[serde(default)]
    pub unbounded: Option<String>,
}

/// What `compile` chooses the width for when none is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimize {
    /// The least proving time.
    #[default]
    Proving,
    /// The least gas of the Solidity verifier (fewer committed columns), among layouts with at
    /// most four times the rows of the `Proving` choice, packed by `EVM_PACK` unless told.
    Evm,
}

impl std::str::FromStr for Optimize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "proving" => Ok(Self::Proving),
            "evm" => Ok(Self::Evm),
            _ => Err(format!("'{s}': choose proving or evm")),
        }
    }
}

/// How fine the fixed point is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Precision {
    /// Values are multiples of `2^-s`.
    Scale(u32),
    /// The scale a target implies (EZKL's names): see [`Target`].
    Target(Target),
    /// The coarsest (cheapest) scale whose largest error on the calibration samples is at most
    /// this.
    MaxError(f64),
}

/// What the scale is chosen for when none is given (EZKL's accuracy and resources, and a
/// default between them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The finest scale, 2^-20: about as many rows as the default (a model with function tables:
    /// 4 times the rows, for its tables' samples), and 5-50x less error on the bundled models.
    Accuracy,
    /// 2^-16 (limbs of 8 bits): errors below EZKL's on the bundled models.
    #[default]
    Balanced,
    /// The coarsest sensible scale, 2^-8: the fewest rows.
    Resources,
}

/// The scales `--max-error` tries, coarsest first.
const SCALES: [u32; 8] = [8, 10, 12, 13, 14, 16, 18, 20];

pub struct CompileOptions {
    pub precision: Precision,
    /// One visibility for every input, or one per input in the graph's order.
    pub input_visibility: Vec<Visibility>,
    pub param_visibility: ParamVisibility,
    /// Inputs per dot-product row; `None` chooses it for `optimize`.
    pub width: Option<usize>,
    pub optimize: Optimize,
    /// Polynomials per commitment; `None` chooses it for `optimize`: 1 for proving,
    /// `EVM_PACK` for the EVM.
    pub pack: Option<usize>,
    /// The most memory, in bytes, a proof may take: a circuit whose estimated peak exceeds it
    /// is refused at compile time rather than killed mid-proof. `None`: no limit.
    pub max_memory: Option<u64>,
}

/// The finest fixed point `compile` takes: values are multiples of `2^-MAX_SCALE`.
pub const MAX_SCALE: u32 = 20;

/// The widest limb: the range table has `2^limb_bits` rows, which every circuit pays for.
const MAX_LIMB_BITS: u32 = 12;

/// The limb width for a scale: the scale itself up to [`MAX_LIMB_BITS`] (one limb holds a
/// rescale's remainder), beyond it the scale split evenly over the fewest limbs that hold it;
/// for a model with function tables the widest limb, whose tables sample finely enough.
pub fn limb_bits_for(scale: u32, functions: bool) -> u32 {
    match functions {
        true => scale.min(MAX_LIMB_BITS),
        false => scale.div_ceil(scale.div_ceil(MAX_LIMB_BITS)),
    }
}

/// The packing `--optimize evm` chooses (docs/evm.md): enough for a model's key to fit in one
/// or two commitments.
pub const EVM_PACK: usize = 16;

/// How many more `k` than the fastest layout `--optimize evm` may take.
const EVM_EXTRA_K: u32 = 2;

/// The cost model is within about 10% of measured proving times (docs/circuits.md): within
/// that margin of the fastest layout, the narrowest is chosen for its smaller key and proof.
const PROVING_MARGIN: f64 = 1.1;

/// The widths `compile` chooses from. Below 5 the element gate has no room for its constants;
/// past 64 the Solidity verifier, which holds the key's commitments in its code, would outgrow
/// EIP-170's 24,576 bytes (docs/evm.md).
const WIDTHS: std::ops::RangeInclusive<usize> = 5..=64;

/// Calibration samples as flat inputs. A list that holds every input's values is a sample; for
/// a model with several inputs a sample may also be that many consecutive lists, one per input
/// in the model's order (as an input file writes them).
fn samples(model: &Model, lists: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, Error> {
    let sizes: Vec<usize> = model.inputs.iter().map(|(_, s)| s.iter().product()).collect();
    let mut out = Vec::new();
    let mut rest = lists;
    while let Some(first) = rest.first() {
        let take = if first.len() == model.input_len() { 1 } else { sizes.len() };
        let group = rest.get(..take).filter(|g| take == 1 || g.iter().map(Vec::len).eq(sizes.iter().copied())).ok_or_else(|| {
            Error::Input(format!(
                "calibration sample {}: give each sample as one list of all {} input values, or as one list per input of sizes {sizes:?}",
                out.len(),
                model.input_len()
            ))
        })?;
        out.push(group.concat());
        rest = &rest[take..];
    }
    Ok(out)
}

/// Chooses the settings for a model: the value range from calibration samples (twice the
/// largest value seen, so inputs a little beyond them still prove; without samples, 24 bits)
/// and the layout width for `options.optimize` (see docs/circuits.md).
pub fn compile(bytes: &[u8], options: &CompileOptions, calibration: &[Vec<f32>]) -> Result<(Settings, Report), Error> {
    if let Some(width) = options.width.filter(|w| *w < *WIDTHS.start()) {
        return Err(Error::Input(format!("width {width}: choose at least {} (the element gate keeps 5 constants in the weight columns)", WIDTHS.start())));
    }
    let pack = match (options.pack, options.optimize) {
        (Some(pack), _) if !zkinfer_circuits::is_valid_pack(pack) => return Err(Error::Input(format!("pack {pack}: choose a power of two up to {}", zkinfer_circuits::MAX_PACK))),
        (Some(pack), _) => pack,
        (None, Optimize::Proving) => 1,
        (None, Optimize::Evm) => EVM_PACK,
    };
    let inputs = onnx::parse(bytes)?.inputs.len();
    let input_visibility = match options.input_visibility.as_slice() {
        [one] => vec![*one; inputs],
        per_input if per_input.len() == inputs => per_input.to_vec(),
        other => {
            return Err(Error::Input(format!("{} input visibilities for a model of {inputs} inputs: give one for all of them, or one per input in the graph's order", other.len())))
        }
    };
    let widest = |limb_bits: u32| (62 / limb_bits as usize).min(8);
    let settings_at = |scale: u32, limb_bits: u32, width: usize, limbs: usize| Settings {
        format: SettingsFormat::CURRENT,
        scale_bits: scale,
        limb_bits,
        width,
        limbs,
        input_visibility: input_visibility.clone(),
        param_visibility: options.param_visibility,
        pack,
        input_ranges: Vec::new(),
    };
    // A model at a scale with the widest range: for choosing the scale and calibrating.
    let probe_at = |scale: u32, functions: bool| {
        let limb_bits = limb_bits_for(scale, functions);
        Model::from_onnx(bytes, settings_at(scale, limb_bits, options.width.unwrap_or(8), widest(limb_bits)))
    };
    // At 2^-8 the limb is the same with or without function tables.
    let coarse = probe_at(8, false)?;
    let calibration = samples(&coarse, calibration)?;
    let functions = coarse.uses_functions();
    let scale = match options.precision {
        Precision::Scale(scale) if !(2..=MAX_SCALE).contains(&scale) => return Err(Error::Input(format!("scale {scale}: choose 2 to {MAX_SCALE}"))),
        Precision::Scale(scale) => scale,
        Precision::Target(Target::Accuracy) => MAX_SCALE,
        Precision::Target(Target::Balanced) => 16,
        Precision::Target(Target::Resources) => 8,
        Precision::MaxError(target) => {
            if calibration.is_empty() {
                return Err(Error::Input("--max-error measures the error on the calibration samples: give --calibration".into()));
            }
            let mut best: Option<(u32, f64)> = None;
            let mut chosen = None;
            for scale in SCALES {
                // A scale whose range cannot hold the samples is skipped, not fatal.
                let Ok(error) = probe_at(scale, functions).and_then(|m| m.accuracy(&calibration)).map(|a| a.worst()) else { continue };
                if best.is_none_or(|(_, e)| error < e) {
                    best = Some((scale, error));
                }
                if error <= target {
                    chosen = Some(scale);
                    break;
                }
            }
            chosen.ok_or_else(|| {
                Error::Range(match best {
                    Some((scale, error)) => format!("no scale reaches an error of {target} on the calibration samples; the finest, 2^-{scale}, is off by {error:.3e}"),
                    None => "no scale holds the calibration samples in its range".into(),
                })
            })?
        }
    };
    let probe = if scale == 8 { coarse } else { probe_at(scale, functions)? };
    let mut largest = 0;
    for (i, sample) in calibration.iter().enumerate() {
        let x = probe.quantize_input(sample).map_err(|e| Error::Input(format!("calibration sample {i}: {e}")))?;
        largest = largest.max(probe.evaluate(&x).map_err(|e| Error::Input(format!("calibration sample {i}: {e}")))?.1);
    }
    let accuracy = (!calibration.is_empty()).then(|| probe.accuracy(&calibration)).transpose()?;
    let input_ranges: Vec<[f32; 2]> = match calibration.is_empty() {
        true => Vec::new(),
        false => (0..probe.inputs.len())
            .map(|i| {
                let values = calibration.iter().flat_map(|sample| probe.split_input(sample.clone()).swap_remove(i).data);
                values.fold([f32::INFINITY, f32::NEG_INFINITY], |[lo, hi], v| [lo.min(v), hi.max(v)])
            })
            .collect(),
    };

    // Each limb width the scale allows, laid out; the cheapest for `optimize` wins.
    let mut best: Option<(Settings, Report)> = None;
    let mut first_error = None;
    // Without function tables the bounds do not depend on the limb.
    let value_bits = match (calibration.is_empty(), functions) {
        (false, false) => probe.bounds(probe.shape(), &input_ranges).ok().map(|b| u64::BITS - (b.largest as u64).leading_zeros() + 1),
        _ => None,
    };
    for limb_bits in limb_candidates(scale, functions, value_bits) {
        // With calibration, the fewest limbs whose range holds every value that any input
        // within the samples' ranges can reach; where the intervals cannot say, twice the largest
        // value the samples reached.
        let range = |m: usize| 1i64 << (m * limb_bits as usize - 1);
        let (limbs, bounded) = match calibration.is_empty() {
            // Values up to 2^16 in real units: at 2^-s, or at 2^-2s where an op compares products.
            true => {
                let bits = scale + 16 + if probe.checks_products() { scale } else { 0 };
                (Some((bits.div_ceil(limb_bits) as usize).max(2)), Err("without --calibration there are no input ranges to bound".to_string()))
            }
            false => {
                let mut bounded = Err(String::new());
                let sound = (2..=widest(limb_bits)).find(|&m| {
                    bounded = probe.bounds(Shape { limb_bits, limbs: m, ..probe.shape() }, &input_ranges).map(|b| b.largest).map_err(|e| e.to_string());
                    bounded.as_ref().is_ok_and(|&b| range(m) > b)
                });
                match (sound, bounded) {
                    (Some(m), bounded) => (Some(m), bounded),
                    (None, Ok(b)) => ((2..=widest(limb_bits)).find(|&m| range(m) > 2 * largest), Err(format!("values may reach {b}, beyond every range the circuit supports"))),
                    (None, Err(e)) => ((2..=widest(limb_bits)).find(|&m| range(m) > 2 * largest), Err(e)),
                }
            }
        };
        let Some(limbs) = limbs else {
            first_error.get_or_insert(Error::Range(format!("calibration reached {largest}, beyond every range the circuit supports")));
            continue;
        };
        let lay_out = |width: usize| -> Result<(Settings, Report), Error> {
            let settings = Settings { input_ranges: input_ranges.clone(), ..settings_at(scale, limb_bits, width, limbs) };
            let model = Model::from_onnx(bytes, settings.clone())?;
            let synthesis = Synthesis::run(&ModelCircuit { model: &model, input: None }, Pass::Key)?;
            let public_values = model.public_values();
            let k = synthesis.min_k(public_values);
            let d = synthesis.cs.description(k);
            let layout = d.layout(pack);
            let report = Report {
                k,
                rows_used: synthesis.rows,
                usable_rows: layout.usable_rows,
                advice_columns: d.num_advice,
                fixed_columns: d.num_fixed,
                lookups: d.lookups.len(),
                permutation_columns: d.permutation.len(),
                max_degree: layout.degree,
                input_shapes: model.inputs.iter().map(|(_, shape)| shape.clone()).collect(),
                output_shapes: model.output_shapes(),
                public_values,
                calibration_largest: largest,
                range_bound: settings.shape().bound(),
                calibration_samples: calibration.len(),
                width_chosen_for: None,
                estimated_prove_cpu_seconds: cost::prove_seconds(&layout, &d),
                estimated_verify_gas: cost::verify_gas(&layout, &synthesis.fixed, public_values),
                srs_powers: layout.srs_powers(),
                estimated_prove_memory_bytes: cost::prove_memory_bytes(&layout, &d),
                accuracy: accuracy.clone(),
                bounded_largest: bounded.clone().ok(),
                unbounded: bounded.clone().err(),
            };
            Ok((settings, report))
        };
        let laid_out = match options.width {
            Some(width) => lay_out(width),
            None => choose_width(options.optimize, lay_out),
        };
        match laid_out {
            Ok(candidate) => {
                let cost = |r: &Report| match options.optimize {
                    Optimize::Proving => (r.estimated_prove_cpu_seconds, r.estimated_verify_gas as f64),
                    Optimize::Evm => (r.estimated_verify_gas as f64, r.estimated_prove_cpu_seconds),
                };
                if best.as_ref().is_none_or(|(_, b)| cost(&candidate.1) < cost(b)) {
                    best = Some(candidate);
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let (settings, mut report) = best.ok_or_else(|| first_error.expect("every scale has a limb width"))?;
    if let Some(limit) = options.max_memory.filter(|&limit| report.estimated_prove_memory_bytes > limit) {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(Error::Range(format!(
            "the circuit of 2^{} rows needs about {:.1} GiB to prove, more than the {:.1} GiB allowed: compile with --target resources (fewer rows), a smaller model, or a larger --max-memory on a machine that has it",
            report.k,
            gib(report.estimated_prove_memory_bytes),
            gib(limit)
        )));
    }
    // A narrower limb samples the function tables differently: the error the report gives is
    // the chosen circuit's.
    if functions && settings.limb_bits != probe.settings.limb_bits && !calibration.is_empty() {
        report.accuracy = Some(Model::from_onnx(bytes, settings.clone())?.accuracy(&calibration)?);
    }
    Ok((settings, report))
}

/// The limb widths worth laying out for a scale: one limb holding a rescale's remainder up to
/// 12 bits; beyond it the scale split evenly into two or three limbs, and the widest limb
/// (fewer range limbs per value, a larger table); and the range of values (`value_bits`, sign
/// included, where known) split evenly into two or three limbs. A model with function tables
/// takes the widest, which its tables sample most cheaply, and beyond one limb of scale also
/// one or two bits narrower: its tables then take more samples, but the range table half or a
/// quarter of the rows (softmax_bn at 2^-16: 2^12 rows instead of 2^13). Widths whose tables
/// would grow too large are refused when laid out.
fn limb_candidates(scale: u32, functions: bool, value_bits: Option<u32>) -> Vec<u32> {
    if functions {
        let widest = limb_bits_for(scale, functions);
        return match scale > MAX_LIMB_BITS {
            true => vec![widest - 2, widest - 1, widest],
            false => vec![widest],
        };
    }
    let for_scale = match scale <= MAX_LIMB_BITS {
        true => vec![scale],
        false => vec![scale.div_ceil(2), scale.div_ceil(3), MAX_LIMB_BITS],
    };
    let for_values = value_bits.into_iter().flat_map(|v| [v.div_ceil(2), v.div_ceil(3)]);
    let mut widths: Vec<u32> = for_scale.into_iter().chain(for_values).filter(|&b| (2..=MAX_LIMB_BITS).contains(&b)).collect();
    widths.sort_unstable();
    widths.dedup();
    widths
}

/// The layout for `optimize` among the narrowest width at each circuit size (a narrower
/// layout of the same `2^k` rows has fewer columns of every kind, so it is cheaper to prove
/// and to verify): for proving, the narrowest within `PROVING_MARGIN` of the fastest; for the
/// EVM, the least gas with at most two more `k` than that (the narrowest layouts, with the fewest
/// evaluations, often need them).
fn choose_width(optimize: Optimize, lay_out: impl Fn(usize) -> Result<(Settings, Report), Error>) -> Result<(Settings, Report), Error> {
    let mut layouts: std::collections::BTreeMap<usize, (Settings, Report)> = Default::default();
    let mut k_at = |width: usize| -> Result<u32, Error> {
        Ok(match layouts.entry(width) {
            std::collections::btree_map::Entry::Occupied(e) => e.get().1.k,
            std::collections::btree_map::Entry::Vacant(e) => e.insert(lay_out(width)?).1.k,
        })
    };
    let (narrowest, widest) = (*WIDTHS.start(), *WIDTHS.end());
    let (k_narrowest, k_widest) = (k_at(narrowest)?, k_at(widest)?);
    let mut candidates = Vec::new();
    for k in k_widest.min(k_narrowest)..=k_widest.max(k_narrowest) {
        // Rows shrink as the width grows: the narrowest width that fits in 2^k rows.
        let (mut low, mut high) = (narrowest, widest);
        while low < high {
            let mid = (low + high) / 2;
            if k_at(mid)? <= k {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        if !candidates.contains(&high) {
            candidates.push(high);
        }
    }
    let report = |width: &usize| &layouts[width].1;
    let time = |width: &usize| report(width).estimated_prove_cpu_seconds;
    let fastest = candidates.iter().map(time).fold(f64::INFINITY, f64::min);
    let proving = *candidates.iter().filter(|w| time(w) <= PROVING_MARGIN * fastest).min().expect("the fastest layout qualifies");
    let chosen = match optimize {
        Optimize::Proving => proving,
        Optimize::Evm => {
            let most_rows = report(&proving).k + EVM_EXTRA_K;
            *candidates
                .iter()
                .filter(|w| report(w).k <= most_rows)
                .min_by(|a, b| report(a).estimated_verify_gas.cmp(&report(b).estimated_verify_gas).then(time(a).total_cmp(&time(b))))
                .expect("the proving layout qualifies")
        }
    };
    let (settings, mut report) = layouts.remove(&chosen).expect("every candidate was laid out");
    report.width_chosen_for = Some(optimize);
    Ok((settings, report))
}
