"""PyTorch eager fp32 prefill of llama2.c's 110M shape (random weights), for bench/pytorch-compare.sh.

Same shape and work as `mspgt bench --synthetic 110m`: dim 768, 12 layers, 12 heads, ffn 2048 (SwiGLU),
vocab 32000, RMSNorm, RoPE, causal attention, logits for every position (into a tensor kept from pass to pass).
Prints one line: tokens/s (best of runs).
"""
import sys, time
import torch

def main():
    tokens, runs, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    dim, layers, heads, ffn, vocab = 768, 12, 12, 2048, 32000
    hd = dim // heads
    def w(r, c):
        return (torch.rand(r, c) * 2 - 1) * (1.7 / c ** 0.5)
    blocks = [dict(q=w(dim, dim), k=w(dim, dim), v=w(dim, dim), o=w(dim, dim),
                   g=w(ffn, dim), u=w(ffn, dim), d=w(dim, ffn)) for _ in range(layers)]
    emb, out = w(vocab, dim), w(vocab, dim)
    inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
    ang = torch.outer(torch.arange(tokens).float(), inv)
    cos, sin = ang.cos(), ang.sin()
    mask = torch.full((tokens, tokens), float("-inf")).triu(1)

    def rms(x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)

    def rope(x):  # x: [heads, T, hd], adjacent pairs as llama2.c
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack((a * cos - b * sin, a * sin + b * cos), -1).flatten(-2)

    def forward(ids, logits):
        x = emb[ids]
        for p in blocks:
            h = rms(x)
            q = rope((h @ p["q"].T).view(tokens, heads, hd).transpose(0, 1))
            k = rope((h @ p["k"].T).view(tokens, heads, hd).transpose(0, 1))
            v = (h @ p["v"].T).view(tokens, heads, hd).transpose(0, 1)
            a = torch.softmax(q @ k.transpose(1, 2) / hd ** 0.5 + mask, -1) @ v
            x = x + a.transpose(0, 1).reshape(tokens, dim) @ p["o"].T
            h = rms(x)
            x = x + (torch.nn.functional.silu(h @ p["g"].T) * (h @ p["u"].T)) @ p["d"].T
        # Into one kept tensor, as mspgt's bench writes the logits over its previous pass's array.
        return torch.matmul(rms(x), out.T, out=logits)

    ids = torch.randint(0, vocab, (tokens,))
    best = float("inf")
    with torch.inference_mode():
        logits = torch.empty(tokens, vocab)
        forward(ids, logits)  # warm-up
        for _ in range(runs):
            t0 = time.perf_counter()
            forward(ids, logits)
            best = min(best, time.perf_counter() - t0)
    print(f"{tokens / best:.1f}")

if __name__ == "__main__":
    main()
