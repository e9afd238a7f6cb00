/*
 * wavenet_lstm — the `wavenet-lstm` baseline (paper.md §5, docs/MODELS.md), after the WaveNet +
 * LSTM forecaster of Benson et al. 2020: a WaveNet-style stack of dilated causal convolutions
 * over the window, whose skip outputs feed an LSTM, whose last hidden state goes through the
 * same readout head as the LSTM baseline (BatchNorm1d -> dropout -> Linear).
 *
 *   r_0 = input_conv(x)                                   1x1 conv, 1 -> C
 *   block i = 0..B-1, dilation 2^i:
 *     [f; g] = dilated_conv_i(r_i)                          causal, kernel K, C -> 2C
 *     z_i = tanh(f) * sigmoid(g)                            gated activation
 *     skip += skip_conv_i(z_i)                              1x1, C -> S
 *     r_{i+1} = r_i + residual_conv_i(z_i)   (i < B-1)      1x1, C -> C
 *   u = relu(skip)  ->  LSTM(S -> h) over the window  ->  last hidden state  ->  head
 *
 * The last block has no residual conv (its output would feed nothing). Parameters:
 *   2C + B (2 C^2 K + 2C + S C + S) + (B-1)(C^2 + C) + 4h (S + h + 2) + 2h + horizon (h + 1)
 * (2h less without BatchNorm); the defaults give 167,272 (the paper's 167k).
 *
 * Options: window=528 horizon=132 channels=32 skip_channels=32 blocks=6 kernel=2 hidden=150
 *          dropout=0.3 batchnorm=1
 *
 * Tensors use PyTorch Conv1d shapes (out, in, kernel) and nn.LSTM names. A batch is split into
 * chunks (lstm.h) run as pool tasks with partial gradients summed in chunk order, so results do
 * not depend on the number of threads. The model owns its parameters and workspace; a training
 * forward keeps every window's activations (about 7.1 MB per window at the defaults).
 */
#ifndef FW_WAVENET_LSTM_H
#define FW_WAVENET_LSTM_H

#include "model/model.h"

extern const struct model_ops wavenet_lstm_ops;

#endif
