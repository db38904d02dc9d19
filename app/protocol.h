/* SPDX-License-Identifier: GPL-2.0 */
/*
 * protocol.h: the app's control protocol, the contract between xdp-lab-app and its clients (the
 * lab's network/plan.ts names the same socket path for the guest).
 *
 * A client connects to the Unix stream socket (XDP_LAB_CONTROL_DEFAULT unless --control PATH) and
 * sends one command per line, the same commands as the console (`help` lists them; lines of at
 * most XDP_LAB_LINE_MAX - 2 bytes). Each command gets exactly one line of JSON back, in order:
 *   {"ok":true,"command":"stats","result":{...},"output":"<what the console would print>"}
 *   {"ok":false,"command":"load","error":"Failed to load ...","output":"..."}
 * Results:
 *   load       {iface, program, object, mode: "native"|"generic", id, replaced?: the id of the
 *              program it replaced when one ran there} (program: the one attached, the first XDP
 *              program of the object unless program=NAME named another by its name or section)
 *   unload     {iface}
 *   stats      {programs: [{iface, program, object, mode, id,
 *              verdicts: {aborted|drop|pass|tx|redirect: {packets, bytes, pps, bps}}}],
 *              events, lua_events}
 *   block, unblock {ip, programs}
 *   echo       {text, seq, rtt_us}, sent when the module's answer arrives
 *   lua        {script}
 *   lua-unload {script: the path of the script it stopped, "" when none ran}
 *   lua-budget {budget_ms, memory_mb}
 *   watch      {watch}
 *   help       {commands: [names]}
 *   quit       {}
 * A line too long gets ok:false with command "". There are XDP_LAB_MAX_CLIENTS client slots;
 * when they are all taken, a new client takes the slot of the client idle the longest, which is
 * disconnected (never one owed an answer). Only when every client waits for an answer is the new
 * one refused, with ok:false and command "".
 * `xdp-lab-app ctl [--control PATH] COMMAND...` is a client for shells: it prints the answer and
 * exits 0 when ok, 1 when not, 2 when nothing listens on PATH.
 */
#ifndef XDP_LAB_PROTOCOL_H
#define XDP_LAB_PROTOCOL_H

#define XDP_LAB_CONTROL_DEFAULT "/run/xdp-lab-app.sock"
#define XDP_LAB_LINE_MAX 1024
#define XDP_LAB_MAX_CLIENTS 16

#endif
