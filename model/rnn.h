/*
 * rnn — the `rnn` baseline (paper.md §5, docs/MODELS.md): a vanilla Elman RNN,
 * h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} [+ b_hh]), h_0 = 0, run over the window; its last
 * hidden state -> dropout -> Linear(h -> horizon). By default it has one bias vector (Keras's
 * SimpleRNN; PyTorch's b_hh is exported as a constant zero) and no BatchNorm, which with
 * hidden=59 gives h^2 + 134h + 132 = 11,519 parameters for horizon 132, the only count of a
 * one-layer RNN that rounds to the paper's 11.5k. recurrent_bias=1 adds PyTorch's second bias
 * (+h) and batchnorm=1 the LSTM baseline's BatchNorm1d (+2h trained, running statistics as
 * buffers); see docs/MODELS.md for why BatchNorm is off by default.
 *
 * Options: window=528 horizon=132 hidden=59 recurrent_bias=0 batchnorm=0 dropout=0.3
 *
 * Batched products go through gemm (model/gemm.h); a batch is split into chunks (lstm.h) that run
 * as pool tasks with partial gradients summed in chunk order, so results do not depend on the
 * number of threads. The model owns its parameters and workspace.
 */
#ifndef FW_RNN_H
#define FW_RNN_H

#include "model/model.h"

extern const struct model_ops rnn_ops;

#endif
