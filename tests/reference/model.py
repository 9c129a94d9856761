#!/usr/bin/env python3
"""Independent PyTorch reference for the `train` stage (SPEC §2-§4).

Two modes:

  model.py parity DIR [DIR ...]
      Each DIR holds `config.json` (the `model` part of the trainer's RunConfig, plus `lr` and
      `clip`), `weights.safetensors` (variable names as in the Rust VarStore) and
      `batch.safetensors` (`tokens` [B, L] int64, `labels` [B] int64). Writes
      `DIR/python.safetensors` with `logits`, `loss`, `layer{i}.logits` (unmasked attention
      logits of every block), and after one SGD step with gradient-norm clipping `grad.NAME`
      and `param.NAME` for every variable. Dropout must be 0 in the config.

  model.py bench --data DIR --task T --variant V [--steps N] [--epochs E] [--threads 2]
                 [--device cpu|cuda]
      Times training steps and whole epochs with a plain PyTorch loop (DataLoader with batch
      25 and shuffling, `clip_grad_norm_`, `torch.optim.SGD`; evaluation with `model.eval()`,
      `torch.no_grad()` and a DataLoader of `--eval-batch` examples, 25 by default, as a
      straightforward loop would). On CUDA the model lives on the GPU, each batch is moved
      there as it is drawn, and each timed step ends with a synchronisation. Prints one JSON
      object.

The masks are built here from SPEC §3's wording, independently of the Rust code.
"""

import argparse
import csv
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn
from safetensors.torch import load_file, save_file

MASKED = -1e15


def parse_variant(s):
    """Returns (kind, k, globals) for full | topkK | bandK[+Gg] | blocK[+Gg]."""
    if s == "full":
        return ("full", 1, 0)
    head, _, g = s.partition("+G")
    globals_ = int(g) if g else 0
    for kind in ("topk", "band", "bloc"):
        if head.startswith(kind):
            return (kind, int(head[len(kind):]), globals_)
    raise ValueError(f"bad variant {s}")


def allowed_mask(kind, k, g, n):
    """[n+g, n+g] bool, True where query i may attend key j (fixed patterns only)."""
    size = n + g
    allowed = torch.zeros(size, size, dtype=torch.bool)
    if kind == "band":
        left = (k - 1) // 2
        for i in range(n):
            lo, hi = i - left, i - left + k
            if lo < 0:
                lo, hi = 0, k
            if hi > n:
                lo, hi = n - k, n
            allowed[i, lo:hi] = True
    elif kind == "bloc":
        for start in range(0, n, k):
            allowed[start:start + k, start:start + k] = True
    else:
        allowed[:, :] = True
    allowed[n:, :] = True  # global tokens attend everywhere
    allowed[:, n:] = True  # and everyone attends to them
    return allowed


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, h, dq = cfg["d_model"], cfg["heads"], cfg["d_qkv"]
        self.h, self.dq, self.p = h, dq, cfg["dropout"]
        self.W_q = nn.Linear(d, h * dq)
        self.W_k = nn.Linear(d, h * dq)
        self.W_v = nn.Linear(d, h * dq)
        self.W_o = nn.Linear(h * dq, d)

    def logits(self, x):
        b, l, _ = x.shape
        q = self.W_q(x).view(b, l, self.h, self.dq).transpose(1, 2)
        k = self.W_k(x).view(b, l, self.h, self.dq).transpose(1, 2)
        v = self.W_v(x).view(b, l, self.h, self.dq).transpose(1, 2)
        return q @ k.transpose(-2, -1) / math.sqrt(self.dq), v

    def forward(self, x, kind, k, allowed):
        b, l, _ = x.shape
        logits, v = self.logits(x)
        if kind == "topk":
            idx = logits.topk(k, dim=-1).indices
            keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, idx, True)
            logits = logits.masked_fill(~keep, MASKED)
        elif allowed is not None:
            logits = logits.masked_fill(~allowed, MASKED)
        w = F.dropout(logits.softmax(dim=-1), self.p, self.training)
        out = (w @ v).transpose(1, 2).reshape(b, l, self.h * self.dq)
        return self.W_o(out)


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg["d_model"], cfg["d_mlp"])
        self.fc2 = nn.Linear(cfg["d_mlp"], cfg["d_model"])
        self.drop = nn.Dropout(cfg["dropout"])
        self.act = {"relu": nn.ReLU(), "gelu": nn.GELU(), "mish": nn.Mish()}[cfg["activation"]]

    def forward(self, x):
        return self.fc2(self.act(self.drop(self.fc1(x))))


class Block(nn.Module):
    def __init__(self, cfg, index):
        super().__init__()
        self.attn = Attention(cfg)
        self.mlp = Mlp(cfg)
        eps = cfg["ln_eps"]
        eps_a = 0.0 if index == 0 and cfg["first_ln_eps_zero"] else eps
        self.ln_a = nn.LayerNorm(cfg["d_model"], eps=eps_a, elementwise_affine=False)
        self.ln_f = nn.LayerNorm(cfg["d_model"], eps=eps, elementwise_affine=False)
        self.drop = nn.Dropout(cfg["dropout"])

    def forward(self, x, kind, k, allowed):
        x = x + self.drop(self.attn(self.ln_a(x), kind, k, allowed))
        return x + self.drop(self.mlp(self.ln_f(x)))


class Classifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.kind, self.k, self.g = parse_variant(cfg["variant"])
        n = math.ceil(cfg["max_len"] / self.k) * self.k
        self.seq_len = n + self.g
        self.embed = nn.Embedding(cfg["vocab"], d)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg["blocks"]))
        self.head = nn.Linear(d, cfg["classes"])
        nn.init.uniform_(self.head.weight, -0.1, 0.1)
        nn.init.zeros_(self.head.bias)
        self.drop = nn.Dropout(cfg["dropout"])
        pos = torch.arange(self.seq_len).unsqueeze(1)
        rate = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
        pe = torch.zeros(self.seq_len, d)
        pe[:, 0::2] = torch.sin(pos * rate)
        pe[:, 1::2] = torch.cos(pos * rate)
        self.register_buffer("pe", pe, persistent=False)
        fixed = self.kind in ("band", "bloc")
        self.register_buffer("allowed", allowed_mask(self.kind, self.k, self.g, n) if fixed else None, persistent=False)
        self.d = d

    def forward(self, tokens, with_logits=False):
        x = self.embed(tokens) * math.sqrt(self.d)
        x = self.drop(x + self.pe[: tokens.shape[1]])
        layer_logits = []
        for block in self.blocks:
            if with_logits:
                layer_logits.append(block.attn.logits(block.ln_a(x))[0])
            x = block(x, self.kind, self.k, self.allowed)
        out = self.head(x.mean(dim=1))
        return (out, layer_logits) if with_logits else out


def parity(dirname):
    device = os.environ.get("REPRO_PARITY_DEVICE", "cpu")
    with open(os.path.join(dirname, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["dropout"] == 0.0, "parity runs without dropout"
    model = Classifier(cfg)
    model.load_state_dict(load_file(os.path.join(dirname, "weights.safetensors")))
    model.to(device)
    batch = load_file(os.path.join(dirname, "batch.safetensors"))
    tokens, labels = batch["tokens"].to(device), batch["labels"].to(device)
    assert tokens.shape[1] == model.seq_len, (tokens.shape, model.seq_len)
    out = {}
    model.train()
    logits, layers = model(tokens, with_logits=True)
    loss = F.cross_entropy(logits, labels)
    out["logits"] = logits.detach()
    out["loss"] = loss.detach().reshape(1)
    for i, l in enumerate(layers):
        out[f"layer{i}.logits"] = l.detach()
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
    for name, p in model.named_parameters():
        out[f"grad.{name}"] = p.grad.detach()
    opt.step()
    for name, p in model.named_parameters():
        out[f"param.{name}"] = p.detach()
    out = {k: v.cpu().contiguous().clone() for k, v in out.items()}
    save_file(out, os.path.join(dirname, "python.safetensors"))


def read_split(path, cfg, model):
    pad = cfg["pad_id"]
    n = model.seq_len - model.g
    rows, labels = [], []
    with open(path) as f:
        for rec in csv.DictReader(f):
            toks = [int(t) for t in rec["tokens"].split(" ")]
            toks = toks + [pad] * (n - len(toks)) + [cfg["vocab"] - model.g + i for i in range(model.g)]
            rows.append(toks)
            labels.append(int(rec["label"]))
    return torch.utils.data.TensorDataset(torch.tensor(rows), torch.tensor(labels))


def evaluate(model, loader, device="cpu"):
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            total += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(-1) == y).sum().item()
            count += len(y)
    return total / count, correct / count


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    settings = {"listops": (10, 1.0)}
    blocks, lr = settings.get(args.task, (5, 0.1))
    if args.blocks:
        blocks = args.blocks
    cfg = {
        "vocab": len(meta["vocab"]) + parse_variant(args.variant)[2], "pad_id": meta["pad_id"],
        "classes": meta["classes"], "max_len": meta["max_len"], "variant": args.variant,
        "d_model": 64, "heads": 1, "d_qkv": 64, "d_mlp": 64, "blocks": blocks, "dropout": 0.01,
        "activation": "relu", "ln_eps": 1e-5, "first_ln_eps_zero": False,
    }
    model = Classifier(cfg)
    dev = args.device
    train = read_split(os.path.join(args.data, "train.csv"), cfg, model)
    heldout = read_split(os.path.join(args.data, "heldout.csv"), cfg, model)
    if args.train_limit:
        train = torch.utils.data.Subset(train, range(args.train_limit))
    if args.heldout_limit:
        heldout = torch.utils.data.Subset(heldout, range(args.heldout_limit))
    model.to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(train, batch_size=25, shuffle=True)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        return loss.item()

    model.train()
    times = []
    it = iter(loader)
    for s in range(args.warmup + args.steps):
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        x, y = x.to(dev), y.to(dev)
        t0 = time.perf_counter()
        step(x, y)
        if s >= args.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    tr, ev, tot = [], [], []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        for x, y in loader:
            step(x.to(dev), y.to(dev))
        t1 = time.perf_counter()
        evaluate(model, torch.utils.data.DataLoader(train, batch_size=args.eval_batch), dev)
        evaluate(model, torch.utils.data.DataLoader(heldout, batch_size=args.eval_batch), dev)
        t2 = time.perf_counter()
        tr.append(t1 - t0)
        ev.append(t2 - t1)
        tot.append(t2 - t0)
    print(json.dumps({
        "implementation": "python-torch", "task": args.task, "variant": args.variant,
        "seq_len": model.seq_len, "blocks": blocks, "train_examples": len(train),
        "heldout_examples": len(heldout), "threads": torch.get_num_threads(), "device": dev,
        "eval_batch": args.eval_batch,
        "step_ms_median": statistics.median(times), "step_ms_mean": statistics.mean(times),
        "epoch_train_s": tr, "epoch_eval_s": ev, "epoch_total_s": tot,
    }))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("parity")
    p.add_argument("dirs", nargs="+")
    b = sub.add_parser("bench")
    b.add_argument("--data", required=True)
    b.add_argument("--task", required=True)
    b.add_argument("--variant", required=True)
    b.add_argument("--blocks", type=int)
    b.add_argument("--warmup", type=int, default=5)
    b.add_argument("--steps", type=int, default=50)
    b.add_argument("--epochs", type=int, default=1)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    b.add_argument("--eval-batch", type=int, default=25)
    b.add_argument("--train-limit", type=int)
    b.add_argument("--heldout-limit", type=int)
    args = parser.parse_args()
    if args.mode == "parity":
        for d in args.dirs:
            parity(d)
    else:
        bench(args)


if __name__ == "__main__":
    sys.exit(main())
