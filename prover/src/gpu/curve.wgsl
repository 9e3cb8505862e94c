// BN254 G1 (y^2 = x^3 + 3 over Fq) in homogeneous projective coordinates, x = X / Z and
// y = Y / Z, with the complete addition of Renes, Costello and Batina ("Complete addition
// formulas for prime order elliptic curves", 2016, algorithm 7 for a = 0): the identity
// (0 : 1 : 0), equal and opposite points need no special case, so no thread branches on them,
// and doubling is an addition too. Drivers inline every call, so kernels call point_add from
// one place: each further call site is another copy of the formulas for the shader compiler.

struct Point {
    x: Limbs,
    y: Limbs,
    z: Limbs,
}

fn point_identity() -> Point {
    return Point(Limbs(), FQ_ONE, Limbs());
}

// 3 b = 9
fn mul_by_3b(a: Limbs) -> Limbs {
    let a2 = fq_add(a, a);
    let a4 = fq_add(a2, a2);
    let a8 = fq_add(a4, a4);
    return fq_add(a8, a);
}

fn point_add(p: Point, q: Point) -> Point {
    var t0 = fq_mul(p.x, q.x);
    var t1 = fq_mul(p.y, q.y);
    var t2 = fq_mul(p.z, q.z);
    var t3 = fq_mul(fq_add(p.x, p.y), fq_add(q.x, q.y));
    t3 = fq_sub(t3, fq_add(t0, t1));
    var t4 = fq_mul(fq_add(p.y, p.z), fq_add(q.y, q.z));
    t4 = fq_sub(t4, fq_add(t1, t2));
    var y3 = fq_mul(fq_add(p.x, p.z), fq_add(q.x, q.z));
    y3 = fq_sub(y3, fq_add(t0, t2));
    t0 = fq_add(fq_add(t0, t0), t0);
    t2 = mul_by_3b(t2);
    var z3 = fq_add(t1, t2);
    t1 = fq_sub(t1, t2);
    y3 = mul_by_3b(y3);
    let x3 = fq_sub(fq_mul(t3, t1), fq_mul(t4, y3));
    y3 = fq_add(fq_mul(t1, z3), fq_mul(y3, t0));
    z3 = fq_add(fq_mul(z3, t4), fq_mul(t0, t3));
    return Point(x3, y3, z3);
}
