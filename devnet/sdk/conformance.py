"""Conformance run of the official Bittensor SDK (``bittensor==11.3.0``) against a devnet.

    python devnet/sdk/conformance.py --url ws://127.0.0.1:PORT

Drives the SDK's public high-level API the way a subnet owner, a miner and a
validator write it: typed reads (``client.subnets``, ``client.neurons``, ...),
intents through ``client.execute`` (``RegisterSubnet``, ``StartCall``,
``SetHyperparameter``, ``BurnedRegister``, ``ServeAxon``, ``AddStake``,
``SetWeights``), the raw-call escape hatch where the SDK has no intent
(commitments, root-only hyperparameters), and the bundled ``btcli``.

Prints one line per operation, ``ok   <operation>: <detail>`` or
``FAIL <operation>: <error>``, carries on past failures that later steps do not
depend on, and exits 1 if anything failed.

Accounts: //Alice owns the new subnet (and is the chain's sudo key), //Bob is
the miner's coldkey with hotkey //Dave, //Charlie the validator's coldkey with
hotkey //Eve. Hotkeys that sign (axon, commitment, weights) are funded dev
accounts, so fee-paying calls work too.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Keep the SDK's on-disk token-symbol cache out of the user's ~/.bittensor, and
# fresh per run, so a cached value can never hide a missing storage item.
_SCRATCH = tempfile.mkdtemp(prefix="kiln-sdk-")
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
os.environ["BTCLI_TOKEN_SYMBOLS_CACHE"] = os.path.join(_SCRATCH, "token_symbols.json")

import bittensor as bt  # noqa: E402
from harness import DevWallet, Report, check, dev_address, run_btcli, submitted  # noqa: E402

TEMPO = 10  # blocks; at 250 ms a block an epoch is a few seconds
GENESIS_NETUID = 1
EPOCH_TIMEOUT = 60.0  # seconds for one epoch to run
MAX_EPOCHS_FOR_SCORES = 4  # epochs to wait for incentive and dividends
MINER_AXON = ("10.0.0.7", 8091)
COMMITMENT = "kiln-conformance"
VALIDATOR_STAKE_TAO = 100


async def connect(report: Report, url: str):
    """Open the async client; on failure retry once with token symbols pre-cached."""

    async def opened():
        client = await bt.Subtensor(url)
        return client, f"{url}, spec_version {await client.spec_version()}"

    client = await report.step("connect", opened, timeout=30)
    if client is not None or isinstance(report.last_error, bt.RpcConnectionError):
        return client

    # connect() always scans SubtensorModule.TokenSymbol unless the symbol cache
    # is fresh; priming it (empty) lets the remaining flows show their own gaps.
    async def primed():
        bt.config.save_token_symbols(url, {})
        client = await bt.Subtensor(url)
        return client, "connected with an empty token-symbol cache (skips TokenSymbol scan)"

    return await report.step("connect (token symbols pre-cached)", primed, timeout=30)


async def chain_basics(report: Report, client, keys: SimpleNamespace) -> None:
    async def block():
        number = await client.block()
        return number, f"block {number}, finalized {await client.finalized_block()}"

    async def balance():
        free = await client.balances.get(keys.owner.coldkey.ss58_address)
        check(free.rao > 0, "//Alice has no free balance")
        return free, f"//Alice free {free}"

    async def balances_many():
        got = await client.balances.get_many([w.coldkey.ss58_address for w in keys.all])
        deposit = await client.balances.existential_deposit()
        return got, f"{len(got)} balances, existential deposit {deposit}"

    async def block_time():
        seconds = await client.block_time()
        return seconds, f"{seconds}s per block (fast blocks: {await client.is_fast_blocks()})"

    await report.step("block number", block)
    await report.step("balance", balance)
    await report.step("balances (batch)", balances_many)
    await report.step("block time", block_time)


async def subnet_owner(report: Report, client, keys: SimpleNamespace):
    """Create, start and configure a new subnet; return its netuid (or None)."""
    owner = keys.owner

    async def cost():
        price = await client.subnets.subnet_registration_cost()
        return price, f"{price}"

    async def register():
        intent = bt.RegisterSubnet(hotkey_ss58=keys.owner_hotkey)
        result = submitted(await client.execute(intent, owner))
        netuid = result.data.get("netuid")
        check(netuid is not None, f"no netuid in result data {result.data}")
        return int(netuid), f"netuid {netuid} ({result.message})"

    await report.step("subnet registration cost", cost)
    netuid = await report.step("register subnet", register, timeout=90)
    need = {"a registered subnet": netuid}

    async def schedule():
        found = await client.subnets.subnet_start_schedule(netuid)
        block = found["earliest_start_block"]
        return block, f"start_call allowed from block {block}"

    async def start():
        if earliest is not None:
            await client.wait_for_block(earliest, timeout=EPOCH_TIMEOUT)
        submitted(await client.execute(bt.StartCall(netuid=netuid), owner))
        return True, f"subnet {netuid} started at block {await client.block()}"

    earliest = await report.step("subnet start schedule", schedule, needs=need)
    await report.step("start call", start, timeout=EPOCH_TIMEOUT + 30, needs=need)

    async def set_hyperparameter(name, value):
        intent = bt.SetHyperparameter(netuid=netuid, name=name, value=value)
        submitted(await client.execute(intent, owner))
        return True, f"{name}={value}"

    for name, value in (
        ("commit_reveal_weights_enabled", False),
        ("min_allowed_weights", 1),
    ):
        await report.step(
            f"owner hyperparameter {name}",
            lambda n=name, v=value: set_hyperparameter(n, v),
            needs=need,
        )

    async def sudo(call, detail):
        # Root-only settings go through the raw-call escape hatch wrapped in
        # Sudo.sudo (//Alice is the sudo key). The SDK's owner path bounds
        # tempo to 360..50400 and has no weights-rate-limit setter at all.
        inner = await client.compose(call)
        submitted(await client.submit_call(bt.calls.Sudo.sudo(call=inner), owner))
        return True, f"{detail} via Sudo.sudo"

    tempo_call = bt.calls.AdminUtils.sudo_set_tempo(netuid, TEMPO) if netuid else None
    rate_call = bt.calls.AdminUtils.sudo_set_weights_set_rate_limit(netuid, 0) if netuid else None
    await report.step("sudo tempo", lambda: sudo(tempo_call, f"tempo={TEMPO}"), needs=need)
    await report.step(
        "sudo weights rate limit", lambda: sudo(rate_call, "weights_set_rate_limit=0"), needs=need
    )

    async def read_back():
        params = await client.subnets.subnet_hyperparameters(netuid)
        check(params is not None, "no hyperparameters for the new subnet")
        rate = await client.hyperparameters.weights_rate_limit(netuid)
        reveal = await client.subnets.commit_reveal_enabled(netuid)
        check(int(params.get("tempo", -1)) == TEMPO, f"tempo {params.get('tempo')} != {TEMPO}")
        check(not reveal, "commit-reveal still enabled")
        check(rate == 0, f"weights rate limit {rate} != 0")
        detail = f"tempo {params['tempo']}, rate limit {rate}, commit-reveal {reveal}"
        return params, f"{len(params)} params, {detail}"

    await report.step("read hyperparameters", read_back, needs=need)
    return netuid


async def subnet_reads(report: Report, client, netuid) -> None:
    async def listing():
        # The batched listing (map scans) must agree with the per-subnet reads.
        subnets = await client.subnets.subnets()
        netuids = [s.netuid for s in subnets]
        for n in (GENESIS_NETUID, netuid):
            check(n is None or n in netuids, f"netuid {n} missing from {netuids}")
        for listed in subnets:
            single = await client.subnets.info(listed.netuid)
            check(listed == single, f"listing has {listed}, subnets.info has {single}")
        return subnets, f"netuids {netuids}"

    async def info(n):
        subnet = await client.subnets.info(n)
        detail = f"tempo {subnet.tempo}, burn {subnet.burn}, {subnet.neuron_count} neurons"
        return subnet, f"netuid {n}: {detail}"

    async def dynamic(n):
        record = await client.runtime(bt.runtime_api.SubnetInfoRuntimeApi.get_dynamic_info, [n])
        check(isinstance(record, dict), f"get_dynamic_info returned {record!r}")
        price = await client.prices.alpha_price(n)
        return record, f"netuid {n}: {len(record)} fields, alpha price {price}"

    async def metagraph(n):
        graph = await client.subnets.metagraph(n)
        check(graph is not None, f"no metagraph for netuid {n}")
        return graph, f"{graph!r}"

    async def neurons(n, lite):
        found = await client.neurons.neurons(n, lite=lite)
        return found, f"netuid {n}: {len(found)} neurons, uids {[x.uid for x in found]}"

    await report.step("list subnets", listing)
    for n in (GENESIS_NETUID, netuid):
        if n is None:
            continue
        await report.step(f"subnet info {n}", lambda n=n: info(n))
        await report.step(f"dynamic info {n}", lambda n=n: dynamic(n))
        await report.step(f"metagraph {n}", lambda n=n: metagraph(n))
        await report.step(f"neurons lite {n}", lambda n=n: neurons(n, True))
        await report.step(f"neurons full {n}", lambda n=n: neurons(n, False))


async def register(report: Report, client, role: str, wallet: DevWallet, netuid):
    """Register ``wallet``'s hotkey the SDK way; on failure fall back to a plain extrinsic.

    Registration runs on its own short-lived connection, as a separate
    ``btcli subnets register`` would: after a MEV-shielded submission SDK
    11.3.0's per-connection nonce cache is one behind (the carrier pins nonce
    n after the inner extrinsic took n + 1), so the coldkey's next extrinsic
    on that connection would be rejected as stale.
    """
    need = {"a registered subnet": netuid}
    hotkey = wallet.hotkey.ss58_address

    async def registered():
        uid = await client.neurons.uid(hotkey, netuid)
        check(uid is not None, "hotkey has no uid")
        return uid, f"uid {uid}"

    async def burned():
        burn = await client.subnets.burn(netuid)
        async with bt.Subtensor(client.endpoint) as own:
            intent = bt.BurnedRegister(netuid=netuid, hotkey_ss58=hotkey)
            submitted(await own.execute(intent, wallet))
        uid, detail = await registered()
        return uid, f"{detail} (burn {burn}, MEV-shielded)"

    uid = await report.step(f"{role} burned_register", burned, timeout=90, needs=need)
    if uid is None and netuid is not None:
        # BurnedRegister always goes MEV-shielded; the unshielded extrinsic shows
        # whether registration itself works, and lets the later flows run.
        async def plain():
            call = bt.calls.SubtensorModule.burned_register(netuid=netuid, hotkey=hotkey)
            submitted(await client.submit_call(call, wallet))
            return await registered()

        uid = await report.step(f"{role} burned_register (unshielded extrinsic)", plain, timeout=60)
    return uid


async def miner(report: Report, client, keys: SimpleNamespace, netuid):
    wallet = keys.miner
    hotkey = wallet.hotkey.ss58_address
    uid = await register(report, client, "miner", wallet, netuid)
    need = {"a registered miner": uid}

    async def serve():
        ip, port = MINER_AXON
        submitted(await client.execute(bt.ServeAxon(netuid=netuid, ip=ip, port=port), wallet))
        graph = await client.subnets.metagraph(netuid, commitments=False)
        axon = graph.neuron(uid).axon
        check(axon == f"{ip}:{port}", f"metagraph axon {axon!r}")
        return axon, f"uid {uid} serves {axon}"

    async def commit():
        data = COMMITMENT.encode()
        info = {"fields": [{f"Raw{len(data)}": "0x" + data.hex()}]}
        call = bt.calls.Commitments.set_commitment(netuid=netuid, info=info)
        submitted(await client.submit_call(call, wallet, signer="hotkey"))
        return True, f"committed {COMMITMENT!r}"

    async def read_commitment():
        one = await client.identity.commitment(netuid, hotkey)
        every = await client.subnets.commitments(netuid)
        graph = await client.subnets.metagraph(netuid)
        seen = graph.neuron(uid).commitment
        check(seen is not None and seen.value == COMMITMENT, f"metagraph commitment {seen!r}")
        check(hotkey in every, f"hotkey missing from subnets.commitments: {list(every)}")
        return one, f"read back {seen.value!r} (identity.commitment: {one!r})"

    await report.step("miner serve axon", serve, needs=need)
    committed = await report.step("miner set commitment", commit, needs=need)
    await report.step("miner read commitment", read_commitment, needs={"a commitment": committed})
    return uid


async def validator(report: Report, client, keys: SimpleNamespace, netuid, miner_uid):
    wallet = keys.validator
    hotkey = wallet.hotkey.ss58_address
    uid = await register(report, client, "validator", wallet, netuid)
    need = {"a registered validator": uid}

    async def stake():
        intent = bt.AddStake(hotkey_ss58=hotkey, netuid=netuid, amount_tao=VALIDATOR_STAKE_TAO)
        submitted(await client.execute(intent, wallet))
        held = await client.staking.get(wallet.coldkey.ss58_address, hotkey, netuid)
        check(held.rao > 0, "no stake after add_stake")
        return held, f"staked {VALIDATOR_STAKE_TAO} TAO, holds {held}"

    async def permit():
        for _ in range(3):
            event = await client.wait_for_epoch(netuid, timeout=EPOCH_TIMEOUT)
            graph = await client.subnets.metagraph(netuid, commitments=False)
            if graph.neuron(uid).validator_permit:
                return True, f"permit after the epoch at block {event.block}"
        raise AssertionError("no validator permit after 3 epochs")

    staked = await report.step("validator add stake", stake, timeout=90, needs=need)
    permitted = await report.step(
        "validator permit", permit, timeout=3 * EPOCH_TIMEOUT + 10, needs={"stake": staked}
    )

    async def set_weights():
        intent = bt.SetWeights(netuid=netuid, weights={miner_uid: 1.0})
        result = submitted(await client.execute(intent, wallet))
        return True, f"weights {{{miner_uid}: 1.0}} set ({result.message})"

    weighted = await report.step(
        "validator set weights",
        set_weights,
        needs={"a validator permit": permitted, "a registered miner": miner_uid},
    )

    async def scores():
        for _ in range(MAX_EPOCHS_FOR_SCORES):
            event = await client.wait_for_epoch(netuid, timeout=EPOCH_TIMEOUT)
            graph = await client.subnets.metagraph(netuid, commitments=False)
            incentive = graph.neuron(miner_uid).incentive
            dividends = graph.neuron(uid).dividends
            emission = graph.neuron(miner_uid).emission
            if incentive > 0 and dividends > 0 and emission.rao > 0:
                return graph, (
                    f"epoch at block {event.block}: miner incentive {incentive:.4f}, "
                    f"validator dividends {dividends:.4f}, miner emission {emission}"
                )
        raise AssertionError(
            f"after {MAX_EPOCHS_FOR_SCORES} epochs: miner incentive {incentive}, "
            f"validator dividends {dividends}, miner emission {emission}"
        )

    async def weights_back():
        rows = await client.weights.weights(netuid)
        row = rows.get(uid) or {}
        check(row.get(miner_uid, 0) > 0, f"weights rows {rows}")
        return rows, f"uid {uid} -> {row}"

    await report.step(
        "incentive and dividends",
        scores,
        timeout=MAX_EPOCHS_FOR_SCORES * EPOCH_TIMEOUT + 10,
        needs={"weights": weighted},
    )
    await report.step("read weights", weights_back, needs={"weights": weighted})


async def cli(report: Report, url: str) -> None:
    home = tempfile.mkdtemp(prefix="home-", dir=_SCRATCH)

    async def subnets_list():
        rows, detail = await run_btcli(["subnets", "list", "--network", url], home, 60)
        row = next((r for r in rows or [] if r.get("netuid") == GENESIS_NETUID), None)
        check(row is not None, f"netuid {GENESIS_NETUID} missing from {rows}")
        keys = ("tempo", "burn_tao", "neurons", "max_neurons")
        empty = [key for key in keys if row.get(key) is None]
        check(not empty, f"netuid {GENESIS_NETUID} row has null {empty}")
        return rows, f"{detail}, {len(rows)} subnets"

    async def subnets_metagraph():
        args = ["subnets", "metagraph", str(GENESIS_NETUID), "--network", url]
        graph, detail = await run_btcli(args, home, 60)
        check(isinstance(graph, dict) and graph.get("hotkeys"), f"no hotkeys in {graph!r:.200}")
        return graph, f"{detail}, {len(graph['hotkeys'])} neurons"

    async def subnets_hyperparameters():
        args = ["subnets", "hyperparameters", str(GENESIS_NETUID), "--network", url]
        params, detail = await run_btcli(args, home, 60)
        check(isinstance(params, dict) and params.get("tempo") == TEMPO, f"{params!r:.200}")
        return params, f"{detail}, {len(params)} parameters"

    await report.step("btcli subnets list", subnets_list, timeout=70)
    await report.step(f"btcli subnets metagraph {GENESIS_NETUID}", subnets_metagraph, timeout=70)
    await report.step(
        f"btcli subnets hyperparameters {GENESIS_NETUID}", subnets_hyperparameters, timeout=70
    )


async def main(url: str) -> int:
    report = Report()
    keys = SimpleNamespace(
        owner=DevWallet.from_uris("//Alice", "//Ferdie"),
        owner_hotkey=dev_address("//Alice//subnet-owner"),
        miner=DevWallet.from_uris("//Bob", "//Dave"),
        validator=DevWallet.from_uris("//Charlie", "//Eve"),
    )
    keys.all = [keys.owner, keys.miner, keys.validator]

    client = await connect(report, url)
    if client is not None:
        try:
            await chain_basics(report, client, keys)
            netuid = await subnet_owner(report, client, keys)
            await subnet_reads(report, client, netuid)
            miner_uid = await miner(report, client, keys, netuid)
            await validator(report, client, keys, netuid, miner_uid)
        finally:
            await asyncio.wait_for(client.close(), 10)
    await cli(report, url)

    return 1 if report.failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="devnet websocket, e.g. ws://127.0.0.1:9944")
    sys.exit(asyncio.run(main(parser.parse_args().url)))
