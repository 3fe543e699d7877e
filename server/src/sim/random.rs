//! Seeded random streams and the two service-time distributions.
//!
//! Every stream is a ChaCha8 generator seeded from the run's seed and the stream's purpose
//! ([`stream`]): ChaCha's output for a given seed is fixed by its specification, so a result
//! printed today can be reproduced by any later build. The distributions are sampled by
//! inversion, which keeps them exact and lets a busy window's *remaining* service time be drawn
//! from the right conditional distribution ([`Dist::sample_remaining`]).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator every part of the simulator uses.
pub(crate) type SimRng = ChaCha8Rng;

/// SplitMix64's finaliser: a bijection that spreads nearby inputs over the whole range.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of a sub-stream: `seed` for the run, `a`/`b` name the stream (day, purpose, …).
pub(crate) fn stream_seed(seed: u64, a: u64, b: u64) -> u64 {
    mix(mix(mix(seed) ^ a) ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// A generator for a sub-stream.
pub(crate) fn stream(seed: u64, a: u64, b: u64) -> SimRng {
    SimRng::seed_from_u64(stream_seed(seed, a, b))
}

/// A uniform number in the open interval (0, 1): safe for `ln`.
pub(crate) fn uniform_open(rng: &mut SimRng) -> f64 {
    // 53 random bits, shifted by half a step so neither end can occur.
    ((rng.random::<u64>() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// An exponential variate with the given mean.
pub(crate) fn exponential(rng: &mut SimRng, mean: f64) -> f64 {
    -uniform_open(rng).ln() * mean
}

/// A service-time distribution, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Dist {
    Exponential {
        mean: f64,
    },
    /// `ln S ~ N(mu, sigma²)`.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
}

impl Dist {
    /// The lognormal with this mean and coefficient of variation.
    pub(crate) fn lognormal(mean: f64, cv: f64) -> Dist {
        let s2 = (1.0 + cv * cv).ln();
        Dist::LogNormal {
            mu: mean.ln() - s2 / 2.0,
            sigma: s2.sqrt(),
        }
    }

    pub(crate) fn mean(&self) -> f64 {
        match *self {
            Dist::Exponential { mean } => mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
        }
    }

    pub(crate) fn sample(&self, rng: &mut SimRng) -> f64 {
        match *self {
            Dist::Exponential { mean } => exponential(rng, mean),
            Dist::LogNormal { mu, sigma } => {
                (mu + sigma * normal_quantile(uniform_open(rng))).exp()
            }
        }
    }

    /// The time still to go of a service that has already taken `elapsed`: a draw from the
    /// distribution conditioned on being longer than `elapsed`, minus `elapsed`. For the
    /// exponential that is the distribution itself (no memory).
    pub(crate) fn sample_remaining(&self, rng: &mut SimRng, elapsed: f64) -> f64 {
        match *self {
            Dist::Exponential { mean } => exponential(rng, mean),
            Dist::LogNormal { mu, sigma } => {
                if elapsed <= 0.0 {
                    return self.sample(rng);
                }
                let p0 = normal_cdf((elapsed.ln() - mu) / sigma);
                let p = p0 + (1.0 - p0) * uniform_open(rng);
                let total = (mu + sigma * normal_quantile(p.min(1.0 - 1e-16))).exp();
                (total - elapsed).max(0.0)
            }
        }
    }
}

/// The standard normal distribution function, from the complementary error function.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// `erfc` by its Chebyshev fit (relative error below 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    if p < LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom (1.96 for large
/// `df`): the factor of a confidence interval's half-width.
pub(crate) fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        // Cornish–Fisher expansion around the normal quantile; within 1e-3 of the exact value here.
        _ => {
            let z: f64 = 1.959_964;
            let n = df as f64;
            z + (z.powi(3) + z) / (4.0 * n)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| stream(1, 2, 3).random()).collect();
        let b: Vec<u64> = (0..4).map(|_| stream(1, 2, 3).random()).collect();
        assert_eq!(a, b);
        assert_ne!(stream_seed(1, 2, 3), stream_seed(1, 3, 2));
        assert_ne!(stream_seed(1, 2, 3), stream_seed(2, 2, 3));
    }

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        for p in [1e-10, 0.001, 0.02, 0.3, 0.5, 0.8, 0.975, 0.999_999] {
            let x = normal_quantile(p);
            assert!(
                (normal_cdf(x) - p).abs() < 2e-7 * p.max(1e-3),
                "p={p} x={x}"
            );
        }
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-6);
    }

    #[test]
    fn sample_means_match_the_distributions() {
        let mut rng = stream(7, 0, 0);
        let n = 200_000;
        for dist in [
            Dist::Exponential { mean: 360.0 },
            Dist::lognormal(360.0, 0.5),
            Dist::lognormal(240.0, 1.5),
        ] {
            let (mut sum, mut sq) = (0.0, 0.0);
            for _ in 0..n {
                let x = dist.sample(&mut rng);
                sum += x;
                sq += x * x;
            }
            let mean = sum / n as f64;
            let sd = (sq / n as f64 - mean * mean).sqrt();
            assert!(
                (mean - dist.mean()).abs() < 4.0 * sd / (n as f64).sqrt(),
                "{dist:?}: {mean}"
            );
        }
    }

    #[test]
    fn a_lognormal_remaining_time_is_the_conditional_tail() {
        // E[S − e | S > e] estimated two ways: by rejection and by the conditional draw.
        let dist = Dist::lognormal(300.0, 0.8);
        let elapsed = 400.0;
        let mut rng = stream(9, 0, 0);
        let (mut rej, mut n_rej) = (0.0, 0);
        while n_rej < 50_000 {
            let s = dist.sample(&mut rng);
            if s > elapsed {
                rej += s - elapsed;
                n_rej += 1;
            }
        }
        let cond: f64 = (0..50_000)
            .map(|_| dist.sample_remaining(&mut rng, elapsed))
            .sum::<f64>()
            / 50_000.0;
        let rej = rej / f64::from(n_rej);
        assert!((cond - rej).abs() / rej < 0.03, "{cond} vs {rej}");
    }

    #[test]
    fn t_quantiles() {
        assert_eq!(t975(1), 12.706);
        assert!((t975(199) - 1.972).abs() < 2e-3, "{}", t975(199));
        assert!((t975(40) - 2.021).abs() < 2e-3, "{}", t975(40));
    }
}
