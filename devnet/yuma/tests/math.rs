//! Subtensor's published `math.rs` vectors (written down as data), replayed on kiln-yuma.

use kiln_yuma::I32F32;
use kiln_yuma::math::*;

fn fx(x: f32) -> I32F32 {
    I32F32::from_num(x)
}

fn fv(v: &[f32]) -> Vec<I32F32> {
    v.iter().map(|&x| fx(x)).collect()
}

/// A row-major dense `rows × cols` matrix as a sparse one, zeros omitted.
fn sparse(flat: &[f32], cols: usize) -> SparseMatrix {
    flat.chunks(cols)
        .map(|r| {
            r.iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
                .map(|(j, &v)| (j as u16, fx(v)))
                .collect()
        })
        .collect()
}

/// Column-major input (`transpose` in subtensor's helper): `groups` columns of `rows` values.
fn sparse_transposed(flat: &[f32], rows: usize) -> (SparseMatrix, u16) {
    let cols = flat.len() / rows;
    let mut m = vec![Vec::new(); rows];
    for (c, col) in flat.chunks(rows).enumerate() {
        for (r, &v) in col.iter().enumerate() {
            if v != 0.0 {
                m[r].push((c as u16, fx(v)));
            }
        }
    }
    (m, cols as u16)
}

fn dense(m: &SparseMatrix, cols: usize) -> Vec<f64> {
    let mut out = vec![0.0; m.len() * cols];
    for (i, row) in m.iter().enumerate() {
        for &(j, v) in row {
            out[i * cols + usize::from(j)] = v.to_num::<f64>();
        }
    }
    out
}

fn dense_transposed(m: &SparseMatrix, cols: usize) -> Vec<f64> {
    let rows = m.len();
    let d = dense(m, cols);
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| (r, c)))
        .map(|(r, c)| d[r * cols + c])
        .collect()
}

fn close(got: &[f64], want: &[f32], eps: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - f64::from(*w)).abs() <= eps, "entry {i}: {g} vs {w}");
    }
}

#[test]
fn weighted_median_table() {
    let cases: [(&[f32], &[f32], f32); 11] = [
        (&[1.0], &[1.0], 1.0),
        (&[0.49, 0.51], &[0.5, 1.0], 1.0),
        (&[0.51, 0.49], &[0.5, 1.0], 0.5),
        (&[0.49, 0.0, 0.51], &[0.5, 0.7, 1.0], 1.0),
        (&[0.49, 0.01, 0.5], &[0.5, 0.7, 1.0], 0.7),
        (&[0.49, 0.51, 0.0], &[0.5, 0.7, 1.0], 0.7),
        (&[0.0, 0.49, 0.51], &[0.5, 0.7, 1.0], 1.0),
        (&[0.0, 0.49, 0.0, 0.51], &[0.5, 0.5, 1.0, 1.0], 1.0),
        (
            &[0.0, 0.49, 0.0, 0.51, 0.0],
            &[0.5, 0.5, 1.0, 1.0, 0.5],
            1.0,
        ),
        (&[0.2; 5], &[0.8, 0.2, 1.0, 0.6, 0.4], 0.6),
        (
            &[0.1; 10],
            &[0.8, 0.8, 0.2, 0.2, 1.0, 1.0, 0.6, 0.6, 0.4, 0.4],
            0.6,
        ),
    ];
    let minority = fx(1.0) - fx(0.51);
    for (stake, score, want) in cases {
        let (s, sc) = (fv(stake), fv(score));
        let idx: Vec<usize> = (0..s.len()).collect();
        let got = weighted_median(&s, &sc, &idx, minority, fx(0.0), sum(&s));
        assert_eq!(got, fx(want), "stake {stake:?} score {score:?}");
    }
    assert_eq!(
        weighted_median(&[], &[], &[], minority, fx(0.0), fx(0.0)),
        fx(0.0)
    );
}

#[test]
fn weighted_median_by_column() {
    let w = sparse(&[0., 0.1, 0., 0., 0.2, 0.4, 0., 0.3, 0.1, 0., 0.4, 0.5], 3);
    let stake = fv(&[0.0, 0.75, 0.25, 0.0]);
    for (majority, want) in [
        (0.24, [0.0, 0.3, 0.4]),
        (0.26, [0.0, 0.2, 0.4]),
        (0.76, [0.0, 0.2, 0.1]),
    ] {
        let got = weighted_median_col_sparse(&stake, &w, 3, fx(majority));
        assert_eq!(got, fv(&want), "majority {majority}");
    }
    let w = sparse(&[0., 0.1, 0., 0., 0.2, 0.4, 0., 0.3, 0.1, 0., 0., 0.5], 3);
    let got = weighted_median_col_sparse(&fv(&[0.0, 0.3, 0.2, 0.5]), &w, 3, fx(0.51));
    assert_eq!(got, fv(&[0.0, 0.0, 0.4]));
    let zeros = sparse(&[0.0; 4], 2);
    assert_eq!(
        weighted_median_col_sparse(&fv(&[0.0, 0.0]), &zeros, 2, fx(0.5)),
        fv(&[0.0, 0.0])
    );
}

#[test]
fn column_clip() {
    let t = fv(&[0.0, 5.0, 12.0]);
    let m = sparse(&[0., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11., 12.], 3);
    close(
        &dense(&col_clip_sparse(&m, &t), 3),
        &[0., 2., 3., 0., 5., 6., 0., 5., 9., 0., 5., 12.],
        0.0,
    );
    let m = sparse(&[0., 2., 3., 4., 5., 6., 0., 0., 0., 10., 11., 12.], 3);
    close(
        &dense(&col_clip_sparse(&m, &t), 3),
        &[0., 2., 3., 0., 5., 6., 0., 0., 0., 0., 5., 12.],
        0.0,
    );
    // Entries of a column with threshold 0 are removed, not kept as zeros.
    assert!(
        col_clip_sparse(&m, &t)
            .iter()
            .all(|r| r.iter().all(|&(j, _)| j != 0))
    );
}

#[test]
fn column_max_upscale_and_normalize() {
    let (m, cols) = sparse_transposed(
        &[
            0., 1., 2., 3., 4., 0., 10., 100., 1000., 10000., 0., 0., 0., 0., 0., 1., 1., 1., 1.,
            1.,
        ],
        5,
    );
    let mut up = m.clone();
    col_max_upscale_sparse(&mut up, cols);
    close(
        &dense_transposed(&up, 4),
        &[
            0., 0.25, 0.5, 0.75, 1., 0., 0.001, 0.01, 0.1, 1., 0., 0., 0., 0., 0., 1., 1., 1., 1.,
            1.,
        ],
        1e-4,
    );
    let mut norm = m;
    col_normalize_sparse(&mut norm, cols);
    close(
        &dense_transposed(&norm, 4),
        &[
            0., 0.1, 0.2, 0.3, 0.4, 0., 0.0009, 0.009, 0.09, 0.9, 0., 0., 0., 0., 0., 0.2, 0.2,
            0.2, 0.2, 0.2,
        ],
        1e-4,
    );

    let input = [
        0., 1., 0., 2., 0., 3., 4., 0., 1., 0., 2., 0., 3., 0., 1., 0., 0., 2., 0., 3., 4., 0.,
        10., 0., 100., 1000., 0., 10000., 0., 0., 0., 0., 0., 0., 0., 1., 1., 1., 1., 1., 1., 1.,
    ];
    let (m, cols) = sparse_transposed(&input, 7);
    let mut up = m.clone();
    col_max_upscale_sparse(&mut up, cols);
    close(
        &dense_transposed(&up, 6),
        &[
            0., 0.25, 0., 0.5, 0., 0.75, 1., 0., 0.333333, 0., 0.666666, 0., 1., 0., 0.25, 0., 0.,
            0.5, 0., 0.75, 1., 0., 0.001, 0., 0.01, 0.1, 0., 1., 0., 0., 0., 0., 0., 0., 0., 1.,
            1., 1., 1., 1., 1., 1.,
        ],
        1e-4,
    );
    let mut norm = m;
    col_normalize_sparse(&mut norm, cols);
    let s = 0.142857;
    close(
        &dense_transposed(&norm, 6),
        &[
            0., 0.1, 0., 0.2, 0., 0.3, 0.4, 0., 0.166666, 0., 0.333333, 0., 0.5, 0., 0.1, 0., 0.,
            0.2, 0., 0.3, 0.4, 0., 0.0009, 0., 0.009, 0.09, 0., 0.9, 0., 0., 0., 0., 0., 0., 0., s,
            s, s, s, s, s, s,
        ],
        1e-4,
    );
}

#[test]
fn moving_average_of_bonds() {
    let ones_to_twelve: Vec<f32> = (1..=12).map(|x| x as f32).collect();
    let tens: Vec<f32> = (1..=12).map(|x| 10.0 * x as f32).collect();
    let cases: [(&[f32], &[f32], &[f32]); 4] = [
        (
            &ones_to_twelve,
            &tens,
            &[
                1.9, 3.8, 5.7, 7.6, 9.5, 11.4, 13.3, 15.2, 17.1, 19., 20.9, 22.8,
            ],
        ),
        (
            &[0., 2., 3., 4., 0., 6., 7., 8., 0., 10., 11., 12.],
            &[10., 20., 0., 40., 0., 60., 0., 80., 90., 100., 110., 120.],
            &[1., 3.8, 2.7, 7.6, 0., 11.4, 6.3, 15.2, 9., 19., 20.9, 22.8],
        ),
        (
            &[0.; 12],
            &[10., 20., 0., 40., 0., 60., 0., 80., 90., 100., 110., 120.],
            &[1., 2., 0., 4., 0., 6., 0., 8., 9., 10., 11., 12.],
        ),
        (&[0.; 12], &[0.; 12], &[0.; 12]),
    ];
    for (old, new, want) in cases {
        let got = mat_ema_sparse(&sparse(new, 3), &sparse(old, 3), fx(0.1), 3);
        close(&dense(&got, 3), want, 1e-6);
        assert!(
            got.iter().flatten().all(|&(_, v)| v > fx(0.0)),
            "zeros are not kept"
        );
    }
}

#[test]
fn interpolation() {
    let a = sparse(&[1., 0., 100., 1000., 10000., 100000.], 2);
    let b = sparse(&[10., 100., 1000., 10000., 100000., 0.], 2);
    close(
        &dense(&interpolate_sparse(&a, &b, 2, I32F32::from_num(0.9f64)), 2),
        &[9.1, 90., 910., 9100., 91000., 10000.],
        1e-4,
    );
    assert_eq!(interpolate_sparse(&a, &b, 2, fx(0.0)), a);
    assert_eq!(interpolate_sparse(&a, &b, 2, fx(1.0)), b);
    let zeros = sparse(&[0.0; 6], 2);
    let ones = sparse(&[1.0; 6], 2);
    for r in [1e-9f32, 0.5, 1.0 - f32::EPSILON] {
        let got = interpolate_sparse(&zeros, &ones, 2, fx(r));
        let values: Vec<I32F32> = got.iter().flatten().map(|&(_, v)| v).collect();
        assert_eq!(values, vec![fx(r); 6], "ratio {r}");
    }
}

#[test]
fn top_k_permits() {
    let t = |v: &[f32], k| is_topk_nonzero(&fv(v), k);
    assert_eq!(t(&[0., 0.], 100), [false, false]);
    assert_eq!(t(&[3., 0., 2.], 5), [true, false, true]);
    assert_eq!(t(&[0., 0., 5., 1.], 3), [false, false, true, true]);
    assert_eq!(t(&[1., 1., 1., 1.], 2), [false, false, true, true]);
    assert_eq!(
        t(&[1., 2., 3., 4., 0., 0., 0., 0.], 8),
        [true, true, true, true, false, false, false, false]
    );
    let v: Vec<f32> = (0..10).map(|x| x as f32).collect();
    assert_eq!(t(&v, 0), [false; 10]);
    assert_eq!(
        t(&[9., 0., 8., 1., 7., 2., 6., 3., 5., 4.], 5),
        [
            true, false, true, false, true, false, true, false, true, false
        ]
    );
    assert_eq!(
        t(&[0., 1., 2., 3., 4., 5., 5., 5., 5., 6.], 5),
        [
            false, false, false, false, false, true, true, true, true, true
        ]
    );
}

#[test]
fn max_upscale_to_u16() {
    let up = |v: &[f32]| vec_max_upscale_to_u16(&fv(v));
    assert_eq!(up(&[]), Vec::<u16>::new());
    assert_eq!(up(&[0.]), [0]);
    assert_eq!(up(&[0., 1.]), [0, 65535]);
    assert_eq!(up(&[0., 1e-9]), [0, 65535]);
    assert_eq!(up(&[0., 0.000016, 1.]), [0, 1, 65535]);
    assert_eq!(
        up(&[1e-6, 6e-6, 7e-6, 1e-4, 0.001, 0.01, 0.1, 0.2, 0.3, 0.4]),
        [0, 1, 1, 16, 164, 1638, 16384, 32768, 49151, 65535]
    );
    assert_eq!(up(&[0., 1., 65535.]), [0, 1, 65535]);
    assert_eq!(up(&[0., 0.5, 1., 1.5, 2., 32768.]), [0, 1, 2, 3, 4, 65535]);
    assert_eq!(
        up(&[0., 0.5, 1., 1.5, 2., 32768., 32769.]),
        [0, 1, 2, 3, 4, 65533, 65535]
    );
    let mut big = fv(&[0., 1., 32768., 32769.]);
    big.push(I32F32::max_value());
    assert_eq!(vec_max_upscale_to_u16(&big), [0, 0, 1, 1, 65535]);

    assert_eq!(u16_max_upscale(&[1]), [65535]);
    assert_eq!(u16_max_upscale(&[0, 1, 65534]), [0, 1, 65535]);
    assert_eq!(
        u16_max_upscale(&[0, 1, 2, 3, 4, 65533, 65535]),
        [0, 1, 2, 3, 4, 65533, 65535]
    );
    assert_eq!(u16_max_upscale(&[43690, 21845]), [65535, 32768]);
    assert_eq!(
        u16_max_upscale(&[16383, 32767, 49149, 65535]),
        [16383, 32767, 49149, 65535]
    );
}

#[test]
fn division_by_zero_is_zero() {
    assert_eq!(
        vecdiv(&fv(&[0., 1., 0., 1.]), &fv(&[0., 1., 1., 0.])),
        fv(&[0., 1., 0., 0.])
    );
    assert_eq!(fixed_proportion_to_u16(fx(1.0)), 65535);
    assert_eq!(fixed_proportion_to_u16(fx(2.0)), 65535);
    assert_eq!(fixed_proportion_to_u16(fx(-1.0)), 0);
}
