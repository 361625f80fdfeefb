//! The chapter's loss and metric.

use burn::prelude::*;

/// Keras' `binary_crossentropy` (mean over pixels and batch), computed from logits `z` so it
/// never takes the log of 0: `max(z, 0) - z·y + ln(1 + e^-|z|)`.
pub fn binary_cross_entropy_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let stable_softplus = logits.clone().abs().neg().exp().log1p();
    (logits.clone().clamp_min(0.0) - logits * targets + stable_softplus).mean()
}

/// The chapter's metric: the share of pixels where `round(y) == round(ŷ)`.
pub fn rounded_accuracy(targets: Tensor<2>, predictions: Tensor<2>) -> Tensor<1> {
    targets.round().equal(predictions.round()).float().mean()
}

/// [`rounded_accuracy`] of `sigmoid(logits)`, without the sigmoid: `round(sigmoid(z))` is 1
/// exactly when `z > 0` (0.5 rounds to even, 0), and a target `k / 255` rounds to 1 when above
/// 0.5. A fifth of a CPU training step cheaper than rounding both.
pub fn rounded_accuracy_of_logits(targets: Tensor<2>, logits: Tensor<2>) -> Tensor<1> {
    targets.greater_elem(0.5).equal(logits.greater_elem(0.0)).float().mean()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(rows: [[f32; 2]; 2]) -> Tensor<2> {
        Tensor::from_floats(rows, &Device::flex())
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar()
    }

    #[test]
    fn bce_matches_hand_computed_values() {
        // Per pixel: -(y ln p + (1-y) ln(1-p)) with p = sigmoid(z).
        // z=0,y=.5: ln 2 = 0.693147; z=2,y=1: ln(1+e^-2) = 0.126928;
        // z=-3,y=0: ln(1+e^-3) = 0.048587; z=1,y=0.2: 1 - 0.2 + ln(1+e^-1) = 1.113262.
        let loss = binary_cross_entropy_with_logits(
            tensor([[0.0, 2.0], [-3.0, 1.0]]),
            tensor([[0.5, 1.0], [0.0, 0.2]]),
        );
        let expected = (0.693_147 + 0.126_928 + 0.048_587 + 1.113_262) / 4.0;
        assert!((scalar(loss) - expected).abs() < 1e-5);
    }

    #[test]
    fn bce_is_finite_for_saturated_logits() {
        let loss = binary_cross_entropy_with_logits(
            tensor([[200.0, -200.0], [200.0, -200.0]]),
            tensor([[1.0, 0.0], [0.0, 1.0]]),
        );
        // Two perfect pixels (0) and two maximally wrong ones (200 each).
        assert!((scalar(loss) - 100.0).abs() < 1e-3);
    }

    #[test]
    fn rounded_accuracy_counts_pixels_that_round_alike() {
        // Pairs (y, ŷ): (0.1, 0.4) same, (0.9, 0.2) differ, (0.6, 0.7) same, (0.3, 0.55) differ.
        let accuracy = rounded_accuracy(tensor([[0.1, 0.9], [0.6, 0.3]]), tensor([[0.4, 0.2], [0.7, 0.55]]));
        assert_eq!(scalar(accuracy), 0.5);
    }

    #[test]
    fn accuracy_of_logits_matches_rounding_the_sigmoid() {
        // Pixels k/255 against logits around 0, including 0 itself (sigmoid 0.5 rounds to 0).
        let targets: Vec<f32> = (0..256).map(|k| k as f32 / 255.0).collect();
        let logits: Vec<f32> = (0..256).map(|k| (k as f32 - 128.0) / 16.0 * if k % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let as_tensor = |v: &[f32]| Tensor::<1>::from_floats(v, &Device::flex()).reshape([16, 16]);
        let (targets, logits) = (as_tensor(&targets), as_tensor(&logits));
        let by_rounding = scalar(rounded_accuracy(targets.clone(), burn::tensor::activation::sigmoid(logits.clone())));
        let by_sign = scalar(rounded_accuracy_of_logits(targets, logits));
        assert_eq!(by_rounding, by_sign);
        assert!(by_sign > 0.2 && by_sign < 0.8, "a mix of agreeing and disagreeing pixels: {by_sign}");
    }
}
