"""The `edgeswarm` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from edgeswarm import __version__
from edgeswarm.swarm import AGGREGATORS, ATTACKS, TOPOLOGIES, Swarm, epoch_line


def _format_consensus(row: dict) -> str:
    if "consensus" in row:
        return f"{row['consensus']:.4f}"
    values = [row[k] for k in sorted(k for k in row if k.startswith("consensus_"))]
    shown = ", ".join(f"{v:.4f}" for v in values[:3])
    return f"[{shown}{', ...' if len(values) > 3 else ''}]"


def _make_swarm(args: argparse.Namespace) -> Swarm:
    return Swarm(
        args.nodes,
        dim=args.dim,
        signal=args.signal,
        noise_variance=args.noise_variance,
        topology=args.topology,
        aggregator=args.aggregator,
        trim=args.trim,
        reputation=not args.no_reputation,
        seed=args.seed,
        epoch_ms=args.epoch_ms,
        threads=args.threads,
        sentinel_fraction=args.sentinel_fraction,
        history=None,  # an offline run: --json writes every epoch
    )


def _inject_due(swarm: Swarm, args: argparse.Namespace, epoch: int) -> None:
    if args.byzantine and epoch == args.attack_at:
        swarm.inject_byzantine(args.byzantine, bias=args.bias, attack=args.attack)
    if args.noise and epoch == args.noise_at:
        swarm.inject_noise(intensity=args.noise, duration_s=args.noise_duration)


def _run(args: argparse.Namespace) -> int:
    swarm = _make_swarm(args)
    if args.quiet:
        # Bulk runs between the injection epochs; a progress bar shows for long runs.
        events = sorted({e for e in (args.attack_at, args.noise_at) if 0 <= e < args.epochs})
        done = 0
        for at in events + [args.epochs]:
            swarm.run(at - done)
            done = at
            if at < args.epochs:
                _inject_due(swarm, args, at)
    else:
        for epoch in range(args.epochs):
            _inject_due(swarm, args, epoch)
            print(epoch_line(swarm.step()), flush=True)
    history = swarm.history()
    _summary(swarm, history)
    if args.json:
        _write_json(args.json, swarm, history)
    return 0


def _summary(swarm: Swarm, history) -> None:
    status = swarm.status()
    print("-- summary --")
    print(f"nodes: {swarm.n_nodes}, epochs: {swarm.epoch}, seed: {swarm.seed}")
    if len(history):
        last = history.iloc[-1]
        print(
            f"consensus: {_format_consensus(last.to_dict())}, drift: {100 * last['drift']:.2f}%, "
            f"rmse: {last['rmse']:.4f}, regime: {last['regime']}"
        )
        print(
            f"byzantine: {status['byzantine']}, banned: {status['banned']} "
            f"(byzantine {int(last['byzantine_banned'])}, honest {int(last['honest_banned'])})"
        )
        print(
            f"bandwidth: {last['bytes_per_node_day']:.0f} B/node/day "
            f"(federated-learning baseline {last['fl_bytes_per_node_day']:.0f}), "
            f"energy: {last['energy_mj']:.1f} mJ/node, sleep ratio: {last['sleep_ratio']:.2f}"
        )
    print(f"state hash: {swarm.state_hash()[:16]}")


def _write_json(path: str, swarm: Swarm, history) -> None:
    payload = {
        "config": swarm.config,
        "state_hash": swarm.state_hash(),
        "epochs": json.loads(history.assign(regime=history["regime"].astype(str)).to_json(orient="records")),
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1)
    print(f"wrote {len(history)} epochs to {path}")


def _bench_nab(args: argparse.Namespace) -> int:
    from edgeswarm.ml import nab_bench
    from edgeswarm.ml.registry import DETECTORS, NAB_DETECTORS

    names = NAB_DETECTORS if args.detector == "all" else (args.detector,)
    if args.detector != "all" and args.detector not in DETECTORS:
        allowed = ", ".join((*DETECTORS, "all"))
        raise ValueError(f"--detector: {args.detector!r} is not a detector; expected one of {allowed}")
    result = nab_bench.bench(args.data, names)
    print(nab_bench.markdown_table(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)
        print(f"wrote {len(names)} detector results to {args.json}")
    return 0


def _bench_cmapss(args: argparse.Namespace) -> int:
    from edgeswarm.ml import maintenance

    result = maintenance.evaluate_cmapss(args.data)
    base = result["baseline_ridge"]
    print("| model | RMSE | NASA score |")
    print("|---|---:|---:|")
    print(
        f"| random features + ridge, seeds {list(result['seeds'])} | {result['rmse']:.2f} +- "
        f"{result['rmse_std']:.2f} | {result['nasa']:.1f} +- {result['nasa_std']:.1f} |"
    )
    print(f"| ridge only (deterministic) | {base['rmse']:.2f} | {base['nasa']:.1f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1, default=float)
        print(f"wrote the C-MAPSS FD001 evaluation to {args.json}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from edgeswarm.service import Settings, serve

    # Only the options given on the command line override the EDGESWARM_* environment.
    names = ("host", "port", "nodes", "epoch_ms", "seed", "byzantine", "devices", "db")
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if "db" in given:
        given["db_path"] = given.pop("db")
    try:
        settings = Settings(print_epochs=not args.quiet, **given)
    except ValidationError as error:  # name the option and the rule
        first = error.errors()[0]
        if not first["loc"]:  # a rule across options; its message names the option
            raise ValueError("--" + first["msg"].removeprefix("Value error, ")) from None
        option = "--" + str(first["loc"][0]).replace("_path", "").replace("_", "-")
        raise ValueError(f"{option}: {first['msg']} (got {first.get('input')!r})") from None
    return serve(settings, access_log=args.access_log)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeswarm", description="A lab for IoT edge swarms.")
    parser.add_argument("--version", action="version", version=f"edgeswarm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a swarm and print each epoch")
    run.add_argument("--nodes", type=int, default=100, help="number of nodes (default 100)")
    run.add_argument("--epochs", type=int, default=60, help="epochs to run (default 60)")
    run.add_argument("--dim", type=int, default=1, help="dimension of the agreed vector (default 1)")
    run.add_argument("--signal", type=float, default=0.5, help="true value sensed (default 0.5)")
    run.add_argument(
        "--noise-variance", type=float, default=0.0025, help="sensor noise variance (default 0.0025)"
    )
    run.add_argument("--topology", choices=TOPOLOGIES, default="complete")
    run.add_argument("--aggregator", choices=AGGREGATORS, default="trimmed_mean")
    run.add_argument("--trim", type=float, default=0.3, help="fraction trimmed per side (default 0.3)")
    run.add_argument("--no-reputation", action="store_true", help="turn reputation and banning off")
    run.add_argument("--byzantine", type=int, default=0, help="Byzantine nodes to inject")
    run.add_argument("--bias", type=float, default=0.9, help="value the attackers report (default 0.9)")
    run.add_argument("--attack", choices=ATTACKS, default="bias")
    run.add_argument("--attack-at", type=int, default=0, help="epoch of the Byzantine injection (default 0)")
    run.add_argument("--noise", type=float, default=0.0, help="injected noise sd (0: none)")
    run.add_argument("--noise-at", type=int, default=0, help="epoch of the noise injection")
    run.add_argument("--noise-duration", type=float, default=300.0, help="noise duration, simulated seconds")
    run.add_argument(
        "--sentinel-fraction",
        type=float,
        default=1.0,
        help="share of always-awake nodes; the rest sleep on a TWT schedule (default 1.0)",
    )
    run.add_argument(
        "--epoch-ms", type=int, default=500, help="simulated milliseconds per epoch (default 500)"
    )
    run.add_argument("--seed", type=int, default=42)
    run.add_argument("--threads", type=int, default=1)
    run.add_argument("--quiet", action="store_true", help="no per-epoch lines (a progress bar for long runs)")
    run.add_argument("--json", metavar="FILE", help="write the per-epoch DataFrame and config as JSON")
    run.set_defaults(handler=_run)

    bench = sub.add_parser("bench", help="score the detectors on a public benchmark")
    bench_sub = bench.add_subparsers(dest="benchmark", required=True)
    # Every choice comes from the one registry of named detector configurations.
    from edgeswarm.ml.registry import DETECTORS, NAB_DETECTORS

    nab_parser = bench_sub.add_parser(
        "nab",
        help="Numenta Anomaly Benchmark: all three profiles",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="detectors (edgeswarm.ml.registry.DETECTORS):\n"
        + "\n".join(f"  {name:<28} {config.description}" for name, config in DETECTORS.items()),
    )
    nab_parser.add_argument(
        "--data", required=True, metavar="DIR", help="the NAB folder (data/, labels/, config/)"
    )
    nab_parser.add_argument(
        "--detector",
        default="all",
        metavar="NAME",
        help=f"one of {', '.join(DETECTORS)}; or all (default): {', '.join(NAB_DETECTORS)}",
    )
    nab_parser.add_argument("--json", metavar="FILE", help="write every score, threshold and count as JSON")
    nab_parser.set_defaults(handler=_bench_nab)
    cmapss_parser = bench_sub.add_parser(
        "cmapss", help="C-MAPSS FD001 remaining useful life: RMSE, NASA score"
    )
    cmapss_parser.add_argument("--data", required=True, metavar="DIR", help="the folder with *_FD001.txt")
    cmapss_parser.add_argument("--json", metavar="FILE", help="write the evaluation as JSON")
    cmapss_parser.set_defaults(handler=_bench_cmapss)

    serve = sub.add_parser(
        "serve",
        help="run the live swarm, REST / WebSocket API and dashboard",
        description="Serves a live swarm (one epoch per --epoch-ms), its REST / WebSocket API (/docs) "
        "and the dashboard at http://HOST:PORT/. Defaults come from EDGESWARM_* variables.",
    )
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, help="TCP port (default 8080; 0 picks a free one)")
    serve.add_argument("--nodes", type=int, help="nodes in the swarm (default 100)")
    serve.add_argument("--epoch-ms", type=int, help="milliseconds per epoch (default 500)")
    serve.add_argument("--seed", type=int, help="seed of the swarm and edge fleet (default 0)")
    serve.add_argument("--byzantine", type=int, help="Byzantine nodes injected at start (default 0)")
    serve.add_argument("--devices", type=int, help="edge devices (default 50)")
    serve.add_argument(
        "--db", metavar="FILE", help="SQLite file that persists users, audit, history (default edgeswarm.db)"
    )
    serve.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:
        print(f"edgeswarm: error: {error}", file=sys.stderr)
        return 2
