# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
"""Layered (Sugiyama-style) SVG diagram of a sales-process workflow.

Pure standard library on purpose: the workflow form inserts the returned SVG as
HTML, and the tests check the geometry that ``layout()`` returns.

Flow is top to bottom. Every edge label is a node of its own in an odd "label
rank" between two step ranks (as dagre does): the coordinate assignment then
keeps labels off boxes and off each other by construction, and long or back
edges run through virtual nodes that hold a slot in each rank they cross.
"""

import math
import random
import zlib
from itertools import pairwise
from xml.sax.saxutils import escape, quoteattr

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
COLORS = {"primary": "#714B67", "danger": "#c0392b", "secondary": "#555"}
OUTCOMES = {"won": ("#d1f2dc", "#2e8b57"), "lost": ("#fbe0e0", "#c0392b"), "open": ("#ffffff", "#714B67")}
BOX_H, CHAR_W, BOX_PAD, BOX_MIN_W = 40, 7.2, 16, 110
LBL_CHAR_W, LBL_PAD, LBL_H = 6.7, 7, 20  # 12px labels: 7.2 * 12 / 13 per char
START_R, MARGIN, PORT_GAP = 8, 16, 18
BADGE_H = 16  # a step's activity plan badge, inside its box under its name
LOOP_BULGE, LOOP_STEP = 30, 14
RESTARTS = 16  # seeded shuffles tried by the crossing reduction (~0.2 s for 15 steps)
LAYER_BUDGET = 1000  # px of boxes per layer; edge labels and dummies need the rest


def _box_w(label):
    return max(BOX_MIN_W, len(label) * CHAR_W + 2 * BOX_PAD)


def _badge_w(text):
    return len(text) * LBL_CHAR_W * 11 / 12 + 10


def _lbl_w(label):
    return len(label) * LBL_CHAR_W + 2 * LBL_PAD


def _gap(a, b):
    """Horizontal clearance between neighbours of one rank, by their kinds."""
    kinds = {a["t"], b["t"]}
    if kinds <= {"step", "start"}:
        return 40
    if "dummy" in kinds:
        return 14
    return 12 if kinds == {"label"} else 18


def _sep(nodes, m, n):
    """Minimal distance between the x of m and of n when n is right of m."""
    return nodes[m]["right"] + nodes[n]["left"] + _gap(nodes[m], nodes[n])


def _build(steps, transitions):
    """Graph nodes keyed ("s", step id) or ("start", transition index), so that
    any hashable step id works; one edge per from-step, self loops kept apart."""
    nodes, edges, loops, seq = {}, [], {}, {}
    for i, s in enumerate(steps):
        key = ("s", s["id"])
        seq[key] = (s.get("kind") != "lead", i)
        w, h = _box_w(str(s.get("label", ""))), BOX_H
        if s.get("plan"):  # the badge of its activity plan, under the name
            w, h = max(w, _badge_w(s.get("plan_badge", "")) + 2 * BOX_PAD), BOX_H + BADGE_H
        nodes[key] = {"t": "step", "w": w, "h": h}
    for ti, t in enumerate(transitions):
        dst = ("s", t.get("to"))
        if dst not in nodes:
            continue
        srcs = [("s", f) for f in t.get("from") or [] if ("s", f) in nodes]
        if not t.get("from"):
            srcs = [("start", ti)]
            nodes[srcs[0]] = {"t": "start", "w": 2 * START_R, "h": 2 * START_R}
            seq[srcs[0]] = (seq[dst][0], seq[dst][1] - 0.5)
        for src in srcs:
            e = {
                "src": src,
                "dst": dst,
                "label": str(t.get("label", "")),
                "style": t.get("style") if t.get("style") in COLORS else "primary",
            }
            if src == dst:
                loops.setdefault(src, []).append(e)
            else:
                edges.append(e)
    return nodes, edges, loops, seq


def _break_cycles(nodes, edges, seq):
    """DFS from the start circles, then from the remaining steps; an edge
    that reaches a node still on the stack is a back edge and gets reversed."""
    adj = {n: [] for n in nodes}
    has_in = set()
    for i, e in enumerate(edges):
        adj[e["src"]].append(i)
        has_in.add(e["dst"])
    roots = [n for n in nodes if n[0] == "start"]
    steps = sorted((n for n in nodes if n[0] == "s"), key=seq.get)
    roots += [n for n in steps if n not in has_in] + steps
    state = {}
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(adj[root]))]
        while stack:  # iterative DFS: no recursion limit on big workflows
            node, it = stack[-1]
            for i in it:
                v = edges[i]["dst"]
                if state.get(v) == 1:
                    edges[i]["back"] = True
                elif v not in state:
                    state[v] = 1
                    stack.append((v, iter(adj[v])))
                    break
            else:
                state[node] = 2
                stack.pop()
    for e in edges:
        e["a"], e["b"] = (e["dst"], e["src"]) if e.get("back") else (e["src"], e["dst"])


def _layers(nodes, edges, seq):
    """Longest path from the sources; start circles stay on top, other sources
    are pulled down next to their first successor to keep edges short."""
    preds = {n: [] for n in nodes}
    succs = {n: [] for n in nodes}
    for e in edges:
        preds[e["b"]].append(e["a"])
        succs[e["a"]].append(e["b"])
    layer, todo = {}, sorted(nodes, key=lambda n: seq[n])
    indeg = {n: len(preds[n]) for n in nodes}
    ready = [n for n in todo if not indeg[n]]
    while ready:
        n = ready.pop(0)
        layer[n] = max((layer[p] + 1 for p in preds[n]), default=0)
        for s in succs[n]:
            indeg[s] -= 1
            if not indeg[s]:
                ready.append(s)
    for n in todo:
        if not preds[n] and succs[n] and n[0] != "start":
            layer[n] = min(layer[s] for s in succs[n]) - 1
    low = min(layer.values(), default=0)
    layer = {n: v - low for n, v in layer.items()}

    def push(n, at):  # move n down to layer `at`, its successors along
        stack = [(n, at)]
        while stack:
            m, at = stack.pop()
            if layer[m] < at:
                layer[m] = at
                stack += [(s, at + 1) for s in succs[m]]

    if any(n[0] == "start" for n in nodes):  # start circles alone above the first layer
        for n in todo:
            if n[0] == "s" and layer[n] == 0:
                push(n, 1)
    # a layer too wide for the budget sends its last steps (in workflow order)
    # one layer down: the diagram stays narrow
    lvl = 0
    while lvl <= max(layer.values(), default=0):
        used = 0
        for n in sorted((n for n in nodes if layer[n] == lvl), key=seq.get):
            if used and used + nodes[n]["w"] > LAYER_BUDGET:
                push(n, lvl + 1)
            else:
                used += nodes[n]["w"] + 40
        lvl += 1
    return layer


def _crossings(ranks, down):
    total = 0
    for r in range(len(ranks) - 1):
        pos = {n: i for i, n in enumerate(ranks[r + 1])}
        segs = [(i, pos[m]) for i, n in enumerate(ranks[r]) for m in down[n]]
        total += sum(1 for k, (a, b) in enumerate(segs) for c, d in segs[k + 1 :] if (a - c) * (b - d) < 0)
    return total


def _transpose(ranks, up, down, eager):
    """Swap neighbours while that removes crossings: barycenters alone get stuck.
    An eager first pass also takes even swaps (as Graphviz does) so that two
    ranks can each make the half of a move that only pays off together."""
    pos = {n: i for rank in ranks for i, n in enumerate(rank)}

    def cross(u, v):  # crossings between the edges of u and v, u left of v
        return sum(1 for nbrs in (up, down) for a in nbrs[u] for b in nbrs[v] if pos[a] > pos[b])

    improved = True
    while improved:
        improved = False
        for rank in ranks:
            for i in range(len(rank) - 1):
                u, v = rank[i], rank[i + 1]
                before, after = cross(u, v), cross(v, u)
                if after < before or (eager and before and after == before):
                    rank[i], rank[i + 1] = v, u
                    pos[u], pos[v] = i + 1, i
                    improved = True
        eager = False


def _order(ranks, up, down):
    """Barycenter sweeps down and up plus transposition, restarted from the given
    order, its mirror and seeded shuffles (sweeps stop in local optima); keep the
    ordering with the fewest crossings."""
    best, best_cross = None, None
    starts = [ranks, [r[::-1] for r in ranks]]
    rnd = random.Random(7)  # seeded: restarts must not break determinism
    starts += [[rnd.sample(r, len(r)) for r in ranks] for _ in range(RESTARTS)]
    for start in starts:
        if best_cross == 0:
            break
        ranks, stale = [list(r) for r in start], 0
        for it in range(10):
            tie = 1 if it % 2 else -1  # alternate ties, else equal barycenters freeze
            for nbrs, rng in ((up, range(1, len(ranks))), (down, range(len(ranks) - 2, -1, -1))):
                for r in rng:
                    ref = {n: i for i, n in enumerate(ranks[r - 1 if nbrs is up else r + 1])}
                    scale = len(ref) / max(1, len(ranks[r]))

                    def key(item, ref=ref, scale=scale, nbrs=nbrs, tie=tie):
                        i, n = item
                        ps = [ref[m] for m in nbrs[n]]
                        return (sum(ps) / len(ps) if ps else i * scale, tie * i)

                    ranks[r] = [n for _, n in sorted(enumerate(ranks[r]), key=key)]
            _transpose(ranks, up, down, it % 2 == 1)
            cross, stale = _crossings(ranks, down), stale + 1
            if best is None or cross < best_cross:
                best, best_cross, stale = [list(r) for r in ranks], cross, 0
            if stale > 3 or best_cross == 0:
                break
    return best


def _pav(targets, weights):
    """Weighted isotonic regression (pool adjacent violators)."""
    blocks = []
    for t, w in zip(targets, weights, strict=False):
        blocks.append([t * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=False)]
    return [s / w for s, w, c in blocks for _ in range(c)]


def _place_x(ranks, nodes, up, down, chains):
    """Each rank in turn moves towards the mean x of its neighbours, solved
    exactly under the minimum spacing constraints (least squares + PAV)."""
    x, offsets = {}, []
    for rank in ranks:  # offsets: each node packed against its left neighbour
        off = [0.0]
        for m, n in pairwise(rank):
            off.append(off[-1] + _sep(nodes, m, n))
        offsets.append(off[: len(rank)])
        x.update(zip(rank, off, strict=False))
    chain_of = {n: chain for chain in chains for n in chain}
    passes = [(up, range(1, len(ranks))), (down, range(len(ranks) - 2, -1, -1))] * 6
    both = {n: up[n] + down[n] for n in nodes}
    passes += [(both, range(len(ranks)))] * 4
    for nbrs, rng in passes:
        for r in rng:
            targets, weights = [], []
            for n, off in zip(ranks[r], offsets[r], strict=False):
                # a virtual node follows its whole chain much more than the boxes
                # at its ends, so long edges run straight and bend near the ends
                if n[0] == "v":
                    ws = [(0.15, x[m]) for m in nbrs[n] if m[0] != "v"]
                    ws += [(1.0, x[m]) for m in chain_of[n]] if len(chain_of[n]) > 1 else []
                else:
                    ws = [(1.0, x[m]) for m in nbrs[n]]
                if ws:
                    total = sum(w for w, _ in ws)
                    targets.append(sum(w * v for w, v in ws) / total - off)
                    weights.append(total * (4 if n[0] == "v" else 1))
                else:
                    targets.append(x[n] - off)
                    weights.append(0.05)
            for n, off, v in zip(ranks[r], offsets[r], _pav(targets, weights), strict=False):
                x[n] = v + off
    # then make long edges vertical: split each chain into the longest runs
    # whose ranks all leave room at one common x, and line each run up
    where = {n: (r, i) for r, rank in enumerate(ranks) for i, n in enumerate(rank)}

    def room(n):
        rank, i = ranks[where[n][0]], where[n][1]
        return (
            x[rank[i - 1]] + _sep(nodes, rank[i - 1], n) if i else -math.inf,
            x[rank[i + 1]] - _sep(nodes, n, rank[i + 1]) if i + 1 < len(rank) else math.inf,
        )

    for chain in chains:
        run, lo, hi = [], -math.inf, math.inf
        for n in chain + [None]:
            a, b = room(n) if n else (math.inf, -math.inf)
            if run and max(lo, a) > min(hi, b):  # n does not fit: line up the run so far
                mid = sorted(x[m] for m in run)[len(run) // 2]
                for m in run:
                    x[m] = min(hi, max(lo, mid))
                run, lo, hi = [], -math.inf, math.inf
            run, lo, hi = run + [n], max(lo, a), min(hi, b)
    return x


def _chains(nodes, edges, layer, ranks):
    """Each edge a chain through one virtual node per rank it crosses (the one
    on its label's rank as wide as the label); returns the up and down
    neighbours of every node."""
    up = {n: [] for n in nodes}
    down = {n: [] for n in nodes}
    for ei, e in enumerate(edges):
        ra, rb = 2 * layer[e["a"]], 2 * layer[e["b"]]
        # forward labels sit just below their source, back-edge labels just
        # above theirs (the lower box), so each label reads next to its origin
        lbl_rank = rb - 1 if e.get("back") else ra + 1
        chain = [e["a"]]
        for r in range(ra + 1, rb):
            key = ("v", ei, r)
            w = _lbl_w(e["label"]) if r == lbl_rank else 0
            nodes[key] = {"t": "label" if w else "dummy", "w": w, "h": LBL_H if w else 0, "left": w / 2, "right": w / 2}
            ranks[r].append(key)
            chain.append(key)
            up[key], down[key] = [], []
        chain.append(e["b"])
        for m, n in pairwise(chain):
            down[m].append(n)
            up[n].append(m)
        e["chain"], e["lbl_node"] = chain, ("v", ei, lbl_rank)
    return up, down


def _place_y(ranks, nodes, x, down):
    """The y of every node and the height: the gap between ranks grows with
    the horizontal run so that curves stay gentle."""
    y, top = {}, MARGIN
    for r, rank in enumerate(ranks):
        h = max((nodes[n]["h"] for n in rank), default=0)
        for n in rank:
            y[n] = top + h / 2
        run = max((abs(x[n] - x[m]) for n in rank for m in down[n]), default=0)
        top += h + (min(80, max(32, run * 0.25)) if r < len(ranks) - 1 else 0)
        for n in rank:
            nodes[n]["half"] = h / 2  # virtual nodes span the full rank height
    return y, top + MARGIN


def _ports(edges, nodes, x, y):
    """{(edge index, side): point}: the ports of a box side spread, ordered
    by where their edge goes."""
    ports = {}
    for side, nbr_of in (("bottom", lambda e: e["chain"][1]), ("top", lambda e: e["chain"][-2])):
        by_node = {}
        for ei, e in enumerate(edges):
            end = e["a"] if side == "bottom" else e["b"]
            by_node.setdefault(end, []).append((x[nbr_of(e)], ei))
        for n, items in by_node.items():
            items.sort()
            k, w = len(items), nodes[n]["w"]
            step = min(PORT_GAP, (w - 24) / (k - 1)) if k > 1 and n[0] == "s" else 0
            py = y[n] + (nodes[n]["h"] / 2 if side == "bottom" else -nodes[n]["h"] / 2)
            for i, (_, ei) in enumerate(items):
                ports[(ei, side)] = (x[n] + (i - (k - 1) / 2) * step, py)
    return ports


def layout(steps, transitions):
    """Returns the geometry used by render_svg, for tests:
    {"nodes": {step_id: (x, y, w, h)}, "edges": [ {"from": id or None, "to": id, "label": str,
    "points": [(x,y), ...], "label_pos": (x, y), "label_box": (x, y, w, h)} ], "width": W,
    "height": H} (from is None for edges leaving the start circle).
    Edges also carry "style" (and "loop": True for a self loop, whose points are
    start, apex, end); "starts" lists the centres of the start circles."""
    nodes, edges, loops, seq = _build(steps, transitions)
    _break_cycles(nodes, edges, seq)
    layer = _layers(nodes, edges, seq)
    for key, n in nodes.items():
        n["left"] = n["right"] = n["w"] / 2
        if key in loops:  # room on the right for the loop(s) and their labels
            n["right"] += (
                LOOP_BULGE + LOOP_STEP * (len(loops[key]) - 1) + sum(_lbl_w(e["label"]) + 6 for e in loops[key])
            )
    ranks = [[] for _ in range(2 * max(layer.values(), default=0) + 1)]
    for key in sorted(nodes, key=seq.get):
        ranks[2 * layer[key]].append(key)
    up, down = _chains(nodes, edges, layer, ranks)
    ranks = _order(ranks, up, down)

    def lean(rs):  # lead steps leftwards, then the workflow's sequence left to right
        return sum(
            (i - (len(r) - 1) / 2) * (seq[n][1] - 1000 * (not seq[n][0]))
            for r in rs
            for i, n in enumerate(r)
            if n[0] == "s"
        )

    if lean([r[::-1] for r in ranks]) > lean(ranks):  # a mirror has the same crossings
        ranks = [r[::-1] for r in ranks]
    x = _place_x(ranks, nodes, up, down, [e["chain"][1:-1] for e in edges])
    shift = MARGIN - min(x[n] - nodes[n]["left"] for n in nodes) if nodes else MARGIN
    x = {n: v + shift for n, v in x.items()}
    width = max((x[n] + nodes[n]["right"] for n in nodes), default=0) + MARGIN

    y, height = _place_y(ranks, nodes, x, down)
    ports = _ports(edges, nodes, x, y)

    out_edges = []
    for ei, e in enumerate(edges):
        pts = [ports[(ei, "bottom")]]
        for v in e["chain"][1:-1]:
            half = nodes[v]["half"]
            pts += [(x[v], y[v] - half), (x[v], y[v] + half)] if half else [(x[v], y[v])]
        pts.append(ports[(ei, "top")])
        if e.get("back"):
            pts.reverse()
        ln = e["lbl_node"]
        lw = nodes[ln]["w"]
        out_edges.append(
            {
                "from": e["src"][1] if e["src"][0] == "s" else None,
                "to": e["dst"][1],
                "label": e["label"],
                "style": e["style"],
                "points": pts,
                "label_pos": (x[ln], y[ln]),
                "label_box": (x[ln] - lw / 2, y[ln] - LBL_H / 2, lw, LBL_H),
            }
        )
    for key, lps in loops.items():
        n = nodes[key]
        right, cy = x[key] + n["w"] / 2, y[key]
        lx = right + LOOP_BULGE + LOOP_STEP * (len(lps) - 1)
        for i, e in enumerate(lps):
            apex = right + LOOP_BULGE - 6 + LOOP_STEP * i
            lw = _lbl_w(e["label"])
            out_edges.append(
                {
                    "from": key[1],
                    "to": key[1],
                    "label": e["label"],
                    "style": e["style"],
                    "points": [(right, cy - 9), (apex, cy), (right, cy + 9)],
                    "loop": True,
                    "label_pos": (lx + lw / 2, cy),
                    "label_box": (lx, cy - LBL_H / 2, lw, LBL_H),
                }
            )
            lx += lw + 6
    out_nodes = {k[1]: (x[k] - n["w"] / 2, y[k] - n["h"] / 2, n["w"], n["h"]) for k, n in nodes.items() if k[0] == "s"}
    starts = [(x[k], y[k]) for k in nodes if k[0] == "start"]
    return {"nodes": out_nodes, "edges": out_edges, "width": width, "height": height, "starts": starts}


def _f(v):
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _path(edge):
    pts = edge["points"]
    if edge.get("loop"):
        (x0, y0), (ax, _), (x1, y1) = pts
        c = x0 + (ax - x0) / 0.75  # a cubic's apex lies at 3/4 of its control offset
        return f"M{_f(x0)},{_f(y0)} C{_f(c)},{_f(y0 - 20)} {_f(c)},{_f(y1 + 20)} {_f(x1)},{_f(y1)}"
    d = [f"M{_f(pts[0][0])},{_f(pts[0][1])}"]
    for (px, py), (qx, qy) in pairwise(pts):
        if abs(px - qx) < 0.5:
            d.append(f"L{_f(qx)},{_f(qy)}")
        else:  # vertical tangents at both ends: smooth through virtual nodes
            my = (py + qy) / 2
            d.append(f"C{_f(px)},{_f(my)} {_f(qx)},{_f(my)} {_f(qx)},{_f(qy)}")
    return " ".join(d)


def _plan_badge(center, top, plan, text):
    """A step's activity plan: a badge inside its box, under its name (the
    box is made taller for it by the layout), with the plan's name and
    activities as a tooltip."""
    w = _badge_w(text)
    x = center - w / 2
    return (
        f'<g class="o_sales_process_plan_badge"><title>{escape(str(plan))}</title>'
        f'<rect x="{_f(x)}" y="{_f(top)}" width="{_f(w)}" height="{BADGE_H}" rx="8" fill="#714B67"/>'
        f'<text x="{_f(center)}" y="{_f(top + BADGE_H / 2)}" font-size="11" fill="#fff" '
        f'text-anchor="middle" dominant-baseline="central">{escape(text)}</text></g>'
    )


def render_svg(steps, transitions, max_width=None):
    """steps: list of dicts {"id": hashable, "label": str, "final": bool,
    "kind": "lead"|"opportunity", "outcome": "open"|"won"|"lost", optionally "plan":
    the tooltip of its activity plan and "plan_badge": the text of its badge} in
    the order the workflow defines them (sequence order).
    transitions: list of dicts {"label": str, "from": [step ids] (empty list = a start
    transition, drawn from a small filled "start" circle), "to": step id,
    "style": "primary"|"secondary"|"danger"}.
    A transition with several "from" steps is drawn as one arrow per from-step (same label).
    A transition whose from == to (a self loop, e.g. "Follow Up") is drawn as a loop on the box.
    Returns an SVG document string (<svg xmlns=... viewBox=... width=... height=...>...</svg>):
    width="100%" with a max-width of the natural width, or of max_width when that is
    smaller, so the browser scales it down through the viewBox."""
    geo = layout(steps, transitions)
    W, H = math.ceil(geo["width"]), math.ceil(geo["height"])
    body = []
    for e in geo["edges"]:
        dash = ' stroke-dasharray="5 4"' if e["style"] == "secondary" else ""
        body.append(
            f'<path d="{_path(e)}" fill="none" stroke="{COLORS[e["style"]]}" '
            f'stroke-width="1.6"{dash} marker-end="url(#ARROW-{e["style"]})"/>'
        )
    for cx, cy in geo["starts"]:
        body.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{START_R}" fill="#333"/>')
    for s in steps:
        bx, by, bw, bh = geo["nodes"][s["id"]]
        fill, stroke = OUTCOMES.get(s.get("outcome"), OUTCOMES["open"])
        rx = 20 if s.get("kind") == "lead" else 6  # lead steps are pills
        tip = f"{s.get('label', '')} ({s.get('kind', '')}{', final' if s.get('final') else ''})"
        body.append(
            f"<g><title>{escape(tip)}</title>"
            f'<rect x="{_f(bx)}" y="{_f(by)}" width="{_f(bw)}" height="{_f(bh)}" '
            f'rx="{rx}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{2 if s.get("final") else 1.5}"/>'
        )
        if s.get("final"):
            body.append(
                f'<rect x="{_f(bx + 4)}" y="{_f(by + 4)}" width="{_f(bw - 8)}" '
                f'height="{_f(bh - 8)}" rx="{rx - 4}" fill="none" stroke="{stroke}"/>'
            )
        body.append(
            f'<text x="{_f(bx + bw / 2)}" y="{_f(by + BOX_H / 2 if s.get("plan") else by + bh / 2)}" '
            f'font-size="13" fill="#222" text-anchor="middle" dominant-baseline="central">'
            f"{escape(str(s.get('label', '')))}</text></g>"
        )
        if s.get("plan"):
            body.append(_plan_badge(bx + bw / 2, by + BOX_H - 6, s["plan"], s.get("plan_badge", "\u2611")))
    for e in geo["edges"]:
        lx, ly, lw, lh = e["label_box"]
        color = COLORS[e["style"]]
        body.append(
            f'<rect x="{_f(lx)}" y="{_f(ly)}" width="{_f(lw)}" height="{_f(lh)}" rx="4" '
            f'fill="#fff" stroke="{color}" stroke-opacity="0.35"/>'
            f'<text x="{_f(lx + lw / 2)}" y="{_f(ly + lh / 2)}" font-size="12" '
            f'fill="{color}" text-anchor="middle" dominant-baseline="central">'
            f"{escape(e['label'])}</text>"
        )
    content = "\n".join(body)
    # ids derived from the content: deterministic, yet distinct for two diagrams on a page
    uid = f"wf{zlib.crc32(content.encode()):08x}"
    markers = "".join(
        f'<marker id="{uid}-{style}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" '
        f'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,1 L10,5 L0,9 z" fill="{color}"/></marker>'
        for style, color in COLORS.items()
    )
    style = quoteattr(f"max-width:{min(W, max_width or W)}px;height:auto;font-family:{FONT}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" '
        f'height="{H}" role="img" aria-labelledby="{uid}-title" style={style} '
        f'font-family={quoteattr(FONT)}>\n<title id="{uid}-title">Sales process workflow'
        f"</title>\n<defs>{markers}</defs>\n" + content.replace("#ARROW-", f"#{uid}-") + "\n</svg>"
    )
