"""The `edgeswarm` command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from edgeswarm import __version__
from edgeswarm.cli_types import (
    duration_s,
    existing_dir,
    int_in,
    int_list,
    latency_ms,
    latency_spelling,
    output_file,
    output_folder,
    port,
    real_in,
    sqlite_file,
)
from edgeswarm.run_memory import available_memory_bytes, check_run_memory
from edgeswarm.swarm import (
    AGGREGATORS,
    ATTACKS,
    MAX_NOISE_EPOCHS,
    Q16_MAX_REAL,
    Q16_MIN_REAL,
    TOPOLOGIES,
    Swarm,
    check_swarm_options,
    epoch_line,
)

# The engine names a bad field by its Swarm() name; the command line names the option instead.
_OPTION_OF_FIELD = {
    "n_nodes": "nodes",
    "count": "byzantine",
    "intensity": "noise",
    "duration_s": "noise-duration",
}

_SEED = int_in(0, 2**64 - 1)


def _format_consensus(row: dict) -> str:
    if "consensus" in row:
        return f"{row['consensus']:.4f}"
    values = [row[k] for k in sorted(k for k in row if k.startswith("consensus_"))]
    shown = ", ".join(f"{v:.4f}" for v in values[:3])
    return f"[{shown}{', ...' if len(values) > 3 else ''}]"


def _swarm_options(args: argparse.Namespace) -> dict:
    return {
        "dim": args.dim,
        "signal": args.signal,
        "noise_variance": args.noise_variance,
        "topology": args.topology,
        "aggregator": args.aggregator,
        "trim": args.trim,
        "reputation": not args.no_reputation,
        "seed": args.seed,
        "epoch_ms": args.epoch_ms,
        "threads": args.threads,
        "sentinel_fraction": args.sentinel_fraction,
    }


def _make_swarm(args: argparse.Namespace) -> Swarm:
    # history=None: an offline run, --json writes every epoch.
    return Swarm(args.nodes, history=None, **_swarm_options(args))


def _as_option(error: ValueError) -> str:
    """The engine's "field: ..." message as "argument --option: ...", argparse's way of naming it."""
    field, sep, rest = str(error).partition(": ")
    if not sep or " " in field:
        return str(error)
    return f"argument --{_OPTION_OF_FIELD.get(field, field).replace('_', '-')}: {rest}"


def _check_gossip(args: argparse.Namespace) -> None:
    if args.gossip == "in-process":
        for option, given in (
            ("--gossip-loss", args.gossip_loss > 0),
            ("--gossip-latency-ms", args.gossip_latency_ms is not None),
        ):
            if given:
                raise ValueError(
                    f"argument {option}: needs --gossip mqtt or mqtt://HOST:PORT (faults of the broker's links)"
                )
        return
    from edgeswarm.mqtt.broker_url import parse_broker_url

    if args.gossip != "mqtt":
        try:
            parse_broker_url(args.gossip)
        except ValueError:
            raise ValueError(
                f"argument --gossip: {args.gossip!r} is not allowed; allowed in-process, mqtt (a broker of "
                "its own) or mqtt://HOST:PORT"
            ) from None


def _check_run(args: argparse.Namespace) -> None:
    """Every rule across the options of `run`, the engine's ranges and the memory the run needs;
    ValueError naming the option, before anything is allocated or run."""
    if args.byzantine > args.nodes:
        raise ValueError(
            f"argument --byzantine: {args.byzantine} exceeds --nodes {args.nodes}; allowed [0, {args.nodes}]"
        )
    for option, at in (("--attack-at", args.attack_at), ("--noise-at", args.noise_at)):
        if at >= args.epochs:
            raise ValueError(
                f"argument {option}: epoch {at} is beyond the run of --epochs {args.epochs}; "
                f"allowed [0, {args.epochs - 1}]"
            )
    longest_s = MAX_NOISE_EPOCHS * args.epoch_ms / 1000
    if args.noise_duration > longest_s:
        raise ValueError(
            f"argument --noise-duration: {args.noise_duration:.10g} is out of range; "
            f"allowed [0, {longest_s:.10g}] (2^62 epochs of --epoch-ms {args.epoch_ms})"
        )
    _check_gossip(args)
    try:
        check_swarm_options(args.nodes, **_swarm_options(args))
    except ValueError as error:
        raise ValueError(_as_option(error)) from None
    check_run_memory(
        args.nodes,
        dim=args.dim,
        epochs=args.epochs,
        topology=args.topology,
        available_bytes=available_memory_bytes(),
    )


def _inject_due(swarm: Swarm, args: argparse.Namespace, epoch: int) -> None:
    if args.byzantine and epoch == args.attack_at:
        swarm.inject_byzantine(args.byzantine, bias=args.bias, attack=args.attack)
    if args.noise and epoch == args.noise_at:
        swarm.inject_noise(intensity=args.noise, duration_s=args.noise_duration)


def _run(args: argparse.Namespace) -> int:
    swarm = _make_swarm(args)
    with _gossip(swarm, args) as deliver:
        if args.quiet:
            # Bulk runs between the injection epochs; a progress bar shows for long runs.
            events = sorted({e for e in (args.attack_at, args.noise_at) if 0 <= e < args.epochs})
            done = 0
            for at in events + [args.epochs]:
                swarm.run(at - done, deliver=deliver)
                done = at
                if at < args.epochs:
                    _inject_due(swarm, args, at)
        else:
            for epoch in range(args.epochs):
                _inject_due(swarm, args, epoch)
                row = swarm.step() if deliver is None else swarm.run(1, deliver=deliver).iloc[0].to_dict()
                print(epoch_line(row), flush=True)
        if deliver is not None:
            _gossip_summary(deliver.gossip_frame())
    history = swarm.history()
    _summary(swarm, history)
    if args.json:
        _write_json(args.json, swarm, history)
    return 0


@contextlib.contextmanager
def _gossip(swarm: Swarm, args: argparse.Namespace) -> Iterator[Any]:
    """The `deliver` of --gossip: None in-process, else a connected MqttGossip (and its broker)."""
    if args.gossip == "in-process":
        yield None
        return
    from edgeswarm.mqtt.faults import LinkFaults
    from edgeswarm.mqtt.swarm_gossip import gossip_over

    latency = {} if args.gossip_latency_ms is None else {"latency": args.gossip_latency_ms}
    faults = LinkFaults(send_loss=args.gossip_loss, **latency) if args.gossip_loss or latency else None
    with gossip_over(swarm, args.gossip, faults=faults, deadline_ms=args.gossip_deadline_ms) as gossip:
        yield gossip


def _gossip_summary(gossip) -> None:
    """One line of what the broker carried, over every epoch."""
    total = gossip.sum(numeric_only=True)
    seconds = total["wait_ms"] / 1000
    rate = f"{len(gossip) / seconds:.0f} epochs/s" if seconds > 0 else "n/a"
    print(
        f"gossip over MQTT: {int(total['delivered'])} of {int(total['expected'])} reports delivered, "
        f"{int(total['send_dropped'])} dropped on send, {int(total['late'])} late, "
        f"{int(total['malformed'])} malformed; exchange {rate}"
    )


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


def _check_data(check, args: argparse.Namespace) -> None:
    try:
        check(args.data)
    except ValueError as error:
        raise ValueError("argument --data: " + str(error).removeprefix("data_dir: ")) from None


def _check_nab(args: argparse.Namespace) -> None:
    from edgeswarm.ml import nab
    from edgeswarm.ml.registry import DETECTORS

    if args.detector != "all" and args.detector not in DETECTORS:
        allowed = ", ".join((*DETECTORS, "all"))
        raise ValueError(f"argument --detector: {args.detector!r} is not a detector; allowed {allowed}")
    _check_data(nab.check_folder, args)


def _check_cmapss(args: argparse.Namespace) -> None:
    from edgeswarm.ml import maintenance

    _check_data(maintenance.check_fd001_folder, args)


def _bench_nab(args: argparse.Namespace) -> int:
    from edgeswarm.ml import nab_bench
    from edgeswarm.ml.registry import NAB_DETECTORS

    names = NAB_DETECTORS if args.detector == "all" else (args.detector,)
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


def _check_serve(args: argparse.Namespace) -> None:
    """Builds the service's Settings (its ranges and rules across options) before anything is served."""
    from pydantic import ValidationError

    from edgeswarm.service import Settings

    # Only the options given on the command line override the EDGESWARM_* environment.
    names = ("host", "port", "nodes", "epoch_ms", "seed", "byzantine", "devices", "db", "mqtt")
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if "db" in given:
        given["db_path"] = given.pop("db")
    try:
        args.settings = Settings(print_epochs=not args.quiet, **given)
    except ValidationError as error:  # name the option and the rule
        first = error.errors()[0]
        if not first["loc"]:  # a rule across options; its message names the option
            raise ValueError("argument --" + first["msg"].removeprefix("Value error, ")) from None
        field = str(first["loc"][0])
        option = field.removesuffix("_path")
        if option not in names:  # set only by the environment; its value may be a secret: not echoed
            raise ValueError(f"EDGESWARM_{field.upper()}: {first['msg']}") from None
        message = first["msg"].removeprefix("Value error, ")
        raise ValueError(
            f"argument --{option.replace('_', '-')}: {message} (got {first.get('input')!r})"
        ) from None
    try:  # the database may come from EDGESWARM_DB_PATH: check it as --db is checked
        sqlite_file(str(args.settings.db_path))
    except argparse.ArgumentTypeError as error:
        raise ValueError(f"argument --db (or EDGESWARM_DB_PATH): {error}") from None
    if args.settings.mqtt == "embedded":  # asked for explicitly: no quiet fallback to off
        from edgeswarm.mqtt import BrokerError, find_mosquitto

        try:
            find_mosquitto()
        except BrokerError as error:
            raise ValueError(
                f"argument --mqtt (or EDGESWARM_MQTT): embedded needs a broker: {error}"
            ) from None
    host = args.settings.host
    try:  # a name that does not resolve would only fail once the server binds
        socket.getaddrinfo(host, args.settings.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        reason = error.strerror if isinstance(error, socket.gaierror) else str(error)
        raise ValueError(
            f"argument --host (or EDGESWARM_HOST): {host!r} does not resolve ({reason}); "
            "allowed an address or a name of this machine's interfaces"
        ) from None


def _serve(args: argparse.Namespace) -> int:
    from edgeswarm.service import serve

    return serve(args.settings, access_log=args.access_log)


def _broker(args: argparse.Namespace) -> int:
    """`edgeswarm broker`: Mosquitto on loopback until Ctrl-C or SIGTERM, then a clean stop."""
    import signal
    import threading
    from pathlib import Path

    from edgeswarm.mqtt import Broker, BrokerError

    users: dict[str, str] = {}
    entries = [("argument --user: a value", text) for text in args.user or []]
    if args.users:
        try:
            lines = Path(args.users).read_text().splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"argument --users: {args.users!r} cannot be read: {error}") from None
        entries += [
            (f"argument --users: {args.users} line {number}", line.strip())
            for number, line in enumerate(lines, 1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    for where, entry in entries:
        name, sep, password = entry.partition(":")
        if not sep:
            raise ValueError(f"{where} is not NAME:PASSWORD")  # not echoed: it may be a password
        users[name] = password
    try:
        broker = Broker(
            args.dir,
            port=args.port,
            bind=args.bind,
            users=users,
            service_users=args.service_user or (),
            tls=args.tls,
        )
        broker.start()
    except ValueError as error:  # Broker names its parameter; say the option instead
        option = {
            "run_dir": "--dir",
            "bind": "--bind",
            "users": "--user/--users",
            "service_users": "--service-user",
        }
        field, _, rest = str(error).partition(": ")
        raise ValueError(f"argument {option[field]}: {rest}" if field in option else str(error)) from None
    except BrokerError as error:
        print(f"edgeswarm broker: error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    listening = "" if broker.bind == broker.host else f"listening on {broker.bind}:{broker.port}; "
    print(f"{broker.url} ({listening}run folder {broker.run_dir}; Ctrl-C stops)", flush=True)
    try:
        while not stop.wait(0.5):
            if not broker.running:  # mosquitto died under us: say so, with its log
                print(
                    f"edgeswarm broker: error: mosquitto exited; {' | '.join(broker.log_tail(5))}",
                    file=sys.stderr,
                )
                return 1
    finally:
        broker.stop()
    return 0


def _check_devices(args: argparse.Namespace) -> None:
    from edgeswarm.mqtt.broker_url import parse_broker_url
    from edgeswarm.mqtt.device_fleet import parse_shard

    parse_broker_url(args.broker, name="argument --broker")
    try:
        parse_shard(args.shard, hostname="ordinal-0")  # the spelling; auto's hostname is read at start
    except ValueError as error:
        raise ValueError(f"argument --shard: {str(error).partition(': ')[2]}") from None
    if not args.shard.startswith("auto/"):
        _, shards = parse_shard(args.shard)
        if shards > args.devices:
            raise ValueError(
                f"argument --shard: {shards} shards for {args.devices} devices; allowed N <= --devices"
            )


def _devices(args: argparse.Namespace) -> int:
    """`edgeswarm devices`: one shard of a fleet of MQTT devices until SIGTERM or --duration."""
    import os
    import socket as sockets

    from edgeswarm.mqtt.device import DeviceOptions
    from edgeswarm.mqtt.device_fleet import parse_shard
    from edgeswarm.mqtt.device_runner import run_devices
    from edgeswarm.mqtt.faults import FailureSchedule, LinkFaults

    shard = parse_shard(args.shard, hostname=os.environ.get("HOSTNAME") or sockets.gethostname())
    options = DeviceOptions(
        fleet=args.fleet,
        qos=args.qos,
        heartbeat_s=args.heartbeat_s,
        telemetry_s=args.telemetry_s,
        keepalive_s=args.keepalive,
        clean_session=not args.persistent_session,
        protocol=args.protocol,
        faults=LinkFaults(
            latency=args.latency_ms,
            send_loss=args.loss,
            receive_loss=args.receive_loss,
            duplicate=args.duplicate,
        ),
        seed=args.seed,
        password=os.environ.get("EDGESWARM_DEVICE_PASSWORD"),
        tls_ca=args.ca,
    )
    failures = FailureSchedule(args.fail_prob, args.fail_every, args.fail_duration)
    return run_devices(
        args.broker,
        devices=args.devices,
        shard=shard,
        options=options,
        failures=failures,
        duration_s=args.duration,
        status_every_s=args.status_every,
    )


def _check_experiment_mqtt(args: argparse.Namespace) -> None:
    """Builds the config of every fleet size (its ranges, --out, open files), finds mosquitto."""
    import dataclasses

    from edgeswarm.mqtt.broker import find_mosquitto
    from edgeswarm.mqtt.experiment import config_from_args
    from edgeswarm.mqtt.experiment_plots import require_matplotlib

    options = {
        "duration_s": "duration",
        "fail_every_s": "fail-every",
        "fail_duration_s": "fail-duration",
        "keepalive_s": "keepalive",
    }
    try:
        args.config = config_from_args(args)
        for devices in args.devices[1:]:
            dataclasses.replace(args.config, devices=devices)
        find_mosquitto()
        require_matplotlib()
    except ValueError as error:
        field, _, rest = str(error).partition(": ")
        option = options.get(field, field)
        raise ValueError(f"argument --{option.replace('_', '-')}: {rest}") from None
    except RuntimeError as error:  # no mosquitto (a BrokerError) or no matplotlib
        raise ValueError(str(error)) from None


def _experiment_mqtt(args: argparse.Namespace) -> int:
    from edgeswarm.mqtt.experiment import run_comparison, run_experiment

    if len(args.devices) > 1:
        folder = run_comparison(args.config, args.devices)
        print((folder / "comparison.md").read_text(), end="")
    else:
        folder = run_experiment(args.config)
        summary = json.loads((folder / "summary.json").read_text())
        measured, injected = summary["latency_ms"]["measured"], summary["latency_ms"]["injected"]
        print(
            f"delivered {summary['received']}/{summary['produced']} ({summary['delivery_ratio']:.4f}), "
            f"latency p50 {measured['p50']:.1f} ms p99 {measured['p99']:.1f} ms (injected p50 "
            f"{injected['p50']:.1f} p99 {injected['p99']:.1f}), failures {summary['failures']}, "
            f"wills {summary['wills_delivered']}"
        )
    print(f"wrote {folder}")
    return 0


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a refusal is one line (what, the value, what is allowed) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser; every path and range is a checked type (edgeswarm.cli_types), refused at parse time.
    Limits the engine or the service owns (the engine's at most 50,000,000 nodes, dim 4096, ...) are
    checked right after parsing by each command's `check`, also before any work."""
    parser = _OneLineParser(prog="edgeswarm", description="A lab for IoT edge swarms.")
    parser.add_argument("--version", action="version", version=f"edgeswarm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a swarm and print each epoch")
    count, index = int_in(1), int_in(0)
    run.add_argument(
        "--nodes",
        type=count,
        default=100,
        help="number of nodes, 1 to 50,000,000 memory permitting (default 100)",
    )
    run.add_argument("--epochs", type=count, default=60, help="epochs to run, >= 1 (default 60)")
    run.add_argument(
        "--dim", type=count, default=1, help="dimension of the agreed vector, 1 to 4096 (default 1)"
    )
    run.add_argument(
        "--signal", type=real_in(), default=0.5, help="true value sensed, in (-16384, 16384) (default 0.5)"
    )
    run.add_argument(
        "--noise-variance", type=real_in(0.0), default=0.0025, help="sensor noise variance (default 0.0025)"
    )
    run.add_argument("--topology", choices=TOPOLOGIES, default="complete")
    run.add_argument("--aggregator", choices=AGGREGATORS, default="trimmed_mean")
    run.add_argument(
        "--trim",
        type=real_in(0.0, 0.5, high_open=True),
        default=0.3,
        help="fraction trimmed per side, in [0, 0.5) (default 0.3)",
    )
    run.add_argument("--no-reputation", action="store_true", help="turn reputation and banning off")
    run.add_argument("--byzantine", type=index, default=0, help="Byzantine nodes to inject, 0 to --nodes")
    run.add_argument(
        "--bias",
        type=real_in(Q16_MIN_REAL, Q16_MAX_REAL),
        default=0.9,
        help="value the attackers report, in the Q16.16 range [-32768, 32767.99998] (default 0.9)",
    )
    run.add_argument("--attack", choices=ATTACKS, default="bias")
    run.add_argument(
        "--attack-at",
        type=index,
        default=0,
        help="epoch of the Byzantine injection, 0 to --epochs - 1 (default 0)",
    )
    run.add_argument(
        "--noise",
        type=real_in(0.0, Q16_MAX_REAL),
        default=0.0,
        help="injected noise sd, in [0, 32767.99998] (0: none)",
    )
    run.add_argument(
        "--noise-at", type=index, default=0, help="epoch of the noise injection, 0 to --epochs - 1"
    )
    run.add_argument(
        "--noise-duration", type=real_in(0.0), default=300.0, help="noise duration, simulated seconds, >= 0"
    )
    run.add_argument(
        "--sentinel-fraction",
        type=real_in(0.0, 1.0),
        default=1.0,
        help="share of always-awake nodes; the rest sleep on a TWT schedule (default 1.0)",
    )
    run.add_argument(
        "--epoch-ms",
        type=count,
        default=500,
        help="simulated milliseconds per epoch, 1 to 86400000 (default 500)",
    )
    run.add_argument("--seed", type=_SEED, default=42, help="seed, 0 to 2^64 - 1 (default 42)")
    run.add_argument("--threads", type=count, default=1, help="engine threads, 1 to 1024 (default 1)")
    run.add_argument(
        "--gossip",
        default="in-process",
        metavar="{in-process,mqtt,mqtt://HOST:PORT}",
        help="carry the gossip in-process (default), over a broker of its own on loopback (mqtt), or over "
        "the broker at mqtt://HOST:PORT, each node an MQTT client",
    )
    run.add_argument(
        "--gossip-deadline-ms",
        type=real_in(1.0, 3_600_000.0),
        default=1000.0,
        help="how long an epoch waits for its MQTT gossip, in [1, 3600000] ms (default 1000)",
    )
    run.add_argument(
        "--gossip-loss",
        type=real_in(0.0, 1.0),
        default=0.0,
        help="seeded loss per MQTT gossip message on send, in [0, 1] (default 0)",
    )
    run.add_argument(
        "--gossip-latency-ms",
        type=latency_ms,
        default=None,
        help="seeded delay per MQTT gossip message: 50, 10:500, normal:100:20, pareto:5:1.5 (default none)",
    )
    run.add_argument("--quiet", action="store_true", help="no per-epoch lines (a progress bar for long runs)")
    run.add_argument(
        "--json", type=output_file, metavar="FILE", help="write the per-epoch DataFrame and config as JSON"
    )
    run.set_defaults(handler=_run, check=_check_run, parser=run)

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
        "--data",
        required=True,
        type=existing_dir,
        metavar="DIR",
        help="the NAB folder (data/, labels/, config/)",
    )
    nab_parser.add_argument(
        "--detector",
        default="all",
        metavar="NAME",
        help=f"one of {', '.join(DETECTORS)}; or all (default): {', '.join(NAB_DETECTORS)}",
    )
    nab_parser.add_argument(
        "--json", type=output_file, metavar="FILE", help="write every score, threshold and count as JSON"
    )
    nab_parser.set_defaults(handler=_bench_nab, check=_check_nab, parser=nab_parser)
    cmapss_parser = bench_sub.add_parser(
        "cmapss", help="C-MAPSS FD001 remaining useful life: RMSE, NASA score"
    )
    cmapss_parser.add_argument(
        "--data", required=True, type=existing_dir, metavar="DIR", help="the folder with *_FD001.txt"
    )
    cmapss_parser.add_argument(
        "--json", type=output_file, metavar="FILE", help="write the evaluation as JSON"
    )
    cmapss_parser.set_defaults(handler=_bench_cmapss, check=_check_cmapss, parser=cmapss_parser)

    serve = sub.add_parser(
        "serve",
        help="run the live swarm, REST / WebSocket API and dashboard",
        description="Serves a live swarm (one epoch per --epoch-ms), its REST / WebSocket API (/docs) "
        "and the dashboard at http://HOST:PORT/. Defaults come from EDGESWARM_* variables.",
    )
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=port, help="TCP port, 0 to 65535 (default 8080; 0 picks a free one)")
    serve.add_argument("--nodes", type=count, help="nodes in the swarm, 1 to 1,000,000 (default 100)")
    serve.add_argument("--epoch-ms", type=count, help="milliseconds per epoch, 1 to 3,600,000 (default 500)")
    serve.add_argument(
        "--seed", type=_SEED, help="seed of the swarm and edge fleet, 0 to 2^64 - 1 (default 0)"
    )
    serve.add_argument(
        "--byzantine", type=index, help="Byzantine nodes injected at start, 0 to --nodes (default 0)"
    )
    serve.add_argument("--devices", type=index, help="edge devices, 0 to 1,000,000 (default 50)")
    serve.add_argument(
        "--db",
        type=sqlite_file,
        metavar="FILE",
        help="SQLite file that persists users, audit, history (default edgeswarm.db)",
    )
    serve.add_argument(
        "--mqtt",
        metavar="MODE",
        help="the edge fleet's uplink: embedded (a Mosquitto broker for the service's lifetime; the default "
        "when mosquitto is installed), mqtt://HOST:PORT (an existing broker) or off (the in-process link)",
    )
    serve.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")
    serve.set_defaults(handler=_serve, check=_check_serve, parser=serve)

    broker = sub.add_parser(
        "broker",
        help="run a Mosquitto MQTT broker on 127.0.0.1 (or --bind) with a generated config",
        description="Starts mosquitto (Debian package mosquitto) on 127.0.0.1 (or --bind ADDRESS) with a "
        "generated config in --dir: $SYS every second, persistence for QoS 1 sessions, the log; with users "
        "a per-device ACL (a user publishes and subscribes only under edgeswarm/<fleet>/<its name>/#). "
        "Prints the URL, runs until Ctrl-C or SIGTERM.",
    )
    broker.add_argument("--port", type=port, default=0, help="TCP port, 0 to 65535 (default 0: a free one)")
    broker.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="IPv4 address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every interface, "
        "as in a container)",
    )
    who = broker.add_mutually_exclusive_group()
    who.add_argument("--users", metavar="FILE", help="a file of NAME:PASSWORD lines (# comments)")
    who.add_argument(
        "--user", action="append", metavar="NAME:PASSWORD", help="a user (repeat for more); anonymous refused"
    )
    broker.add_argument(
        "--service-user", action="append", metavar="NAME", help="a user that reads and writes every topic"
    )
    broker.add_argument("--tls", action="store_true", help="a TLS listener with a generated CA (tls/ca.crt)")
    broker.add_argument(
        "--dir", metavar="DIR", help="run folder: config, log, persistence (default a new temp one)"
    )
    broker.set_defaults(handler=_broker, check=lambda _args: None, parser=broker)

    devices = sub.add_parser(
        "devices",
        help="run a fleet (or one shard of it) of simulated devices as MQTT clients of a broker",
        description="Runs devices as real MQTT clients (paho-mqtt) on one event loop: heartbeats, "
        "telemetry from the seeded sensor models, retained status with a Last Will, an inbox, seeded "
        "faults. --shard I/N runs the I-th of N contiguous id ranges (auto/N: I from the hostname's "
        "trailing number, as in a StatefulSet). Prints a JSON status line every --status-every "
        "seconds; SIGTERM stops every device cleanly. EDGESWARM_DEVICE_PASSWORD: the password of "
        "every device (its username is its id).",
    )
    devices.add_argument(
        "--broker", required=True, metavar="URL", help="mqtt://HOST:PORT or mqtts://HOST:PORT"
    )
    devices.add_argument("--fleet", default="fleet", help="fleet name, the topic level after edgeswarm/")
    devices.add_argument(
        "--devices", type=int_in(1, 1_000_000), default=100, help="devices in the whole fleet"
    )
    devices.add_argument("--shard", default="0/1", metavar="I/N", help="this process's share (default 0/1)")
    devices.add_argument("--qos", type=int_in(0, 2), default=1, help="QoS of data messages, 0, 1 or 2")
    devices.add_argument("--heartbeat-s", type=real_in(0.001), default=10.0, help="heartbeat period")
    devices.add_argument("--telemetry-s", type=real_in(0.0), default=1.0, help="telemetry period (0: none)")
    devices.add_argument("--keepalive", type=int_in(1, 65535), default=60, help="MQTT keepalive, seconds")
    devices.add_argument(
        "--persistent-session", action="store_true", help="keep the session across reconnects"
    )
    devices.add_argument(
        "--protocol", choices=("3.1.1", "5"), default="3.1.1", help="MQTT version; 5 counts refused publishes"
    )
    devices.add_argument(
        "--latency-ms", type=latency_ms, default="0", help="injected delay: MS, MIN:MAX, ..."
    )
    devices.add_argument("--loss", type=real_in(0.0, 1.0), default=0.0, help="loss on send, 0 to 1")
    devices.add_argument(
        "--receive-loss", type=real_in(0.0, 1.0), default=0.0, help="loss on receive, 0 to 1"
    )
    devices.add_argument("--duplicate", type=real_in(0.0, 1.0), default=0.0, help="duplication, 0 to 1")
    devices.add_argument("--fail-prob", type=real_in(0.0, 1.0), default=0.0, help="failure chance per check")
    devices.add_argument("--fail-every", type=duration_s, default="30s", help="failure check period (30s)")
    devices.add_argument("--fail-duration", type=duration_s, default="30s", help="outage length (30s)")
    devices.add_argument("--seed", type=int_in(0, 2**64 - 1), default=1, help="seed of faults and sensors")
    devices.add_argument(
        "--duration", type=duration_s, default=None, help="stop after this long (default: never)"
    )
    devices.add_argument(
        "--status-every", type=real_in(0.1), default=10.0, help="status line period, seconds"
    )
    devices.add_argument("--ca", metavar="FILE", default=None, help="CA certificate for mqtts://")
    devices.set_defaults(handler=_devices, check=_check_devices, parser=devices)

    experiment = sub.add_parser("experiment", help="timed experiments that write a results folder")
    experiment_sub = experiment.add_subparsers(dest="experiment", required=True)
    mqtt = experiment_sub.add_parser(
        "mqtt",
        help="a fresh broker and MQTT fleet with injected faults, for a fixed duration",
        description="Starts a new Mosquitto and --devices MQTT devices on 127.0.0.1, injects the faults, "
        "runs for --duration and writes OUT/experiment_<label>_<timestamp>/ (device logs, broker log, "
        "metrics.parquet/.csv, summary.json, config.json, plots). A list of fleet sizes runs one "
        "experiment each into OUT/comparison_<label>_<timestamp>/ with a comparison table.",
    )
    add = mqtt.add_argument
    add("--devices", type=int_list(1), default=[10], help="fleet size, or sizes: 10,50,100 (default 10)")
    add("--duration", type=duration_s, default=60.0, help="measured window: 30s, 20m (default 60s)")
    add("--latency-ms", type=latency_spelling, default="0", help="injected delay: 50, 10:500, normal:100:20")
    add("--loss", type=real_in(0.0, 1.0), default=0.0, help="send loss probability, [0, 1] (default 0)")
    add("--fail-prob", type=real_in(0.0, 1.0), default=0.0, help="failure probability per check, [0, 1]")
    add("--fail-every", type=duration_s, default=30.0, help="time between failure checks (30s)")
    add("--fail-duration", type=duration_s, default=30.0, help="length of an outage (30s)")
    add("--qos", type=int_in(0, 2), default=1, help="QoS of heartbeats and telemetry, 0 to 2 (default 1)")
    add("--seed", type=_SEED, default=0, help="seed, 0 to 2^64 - 1 (default 0)")
    add("--out", type=output_folder, default="results", help="results folder (default results/)")
    add("--label", default="mqtt", help="name in the folder's name (default mqtt)")
    add("--keepalive", type=int_in(1, 65535), default=10, help="MQTT keepalive, seconds (default 10)")
    add("--telemetry-s", type=real_in(0.0), default=1.0, help="telemetry period, s; 0: none (default 1)")
    add("--heartbeat-s", type=real_in(0.0), default=10.0, help="heartbeat period, s, > 0 (default 10)")
    add("--broker-kill-at", type=duration_s, default=None, help="SIGKILL the broker at this time (e.g. 30s)")
    add("--broker-down-for", type=duration_s, default=5.0, help="then start it again after this long (5s)")
    mqtt.set_defaults(handler=_experiment_mqtt, check=_check_experiment_mqtt, parser=mqtt)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # a bad path or range: usage, one line, exit 2
    try:
        args.check(args)  # the rules across options, before any work
    except ValueError as error:
        args.parser.error(str(error))
    try:
        return args.handler(args)
    except ValueError as error:
        print(f"edgeswarm: error: {error}", file=sys.stderr)
        return 2
