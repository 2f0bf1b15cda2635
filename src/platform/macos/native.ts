/**
 * macOS declarations and calls only (decisions live in logic.ts). Loaded lazily, main thread only.
 * Object pointers travel as 64-bit integers (I64).
 */
import { loadFfi } from '../ffi.js';
import type { MacApi } from './logic.js';

const FW = '/System/Library/Frameworks';
const kCFStringEncodingUTF8 = 0x08000100;
const kCGEventSourceStateCombinedSessionState = 0;
const kCGAnyInputEventType = 0xffffffff;
const kAXErrorSuccess = 0;

export function openMacApi(): MacApi {
  const ffi = loadFfi();
  const { DataType: T } = ffi;
  const libs: Record<string, string> = {
    objc: '/usr/lib/libobjc.A.dylib',
    cf: `${FW}/CoreFoundation.framework/CoreFoundation`,
    cg: `${FW}/CoreGraphics.framework/CoreGraphics`,
    ax: `${FW}/ApplicationServices.framework/ApplicationServices`,
    appkit: `${FW}/AppKit.framework/AppKit`, // registers NSWorkspace with the runtime
  };
  for (const [library, path] of Object.entries(libs)) ffi.open({ library, path });
  const call = (library: string, funcName: string, retType: number, paramsType: number[], paramsValue: unknown[]): unknown =>
    ffi.load({ library, funcName, retType: retType as never, paramsType: paramsType as never[], paramsValue });

  const cfstr = (s: string): number =>
    call('cf', 'CFStringCreateWithCString', T.I64, [T.I64, T.String, T.U32], [0, s, kCFStringEncodingUTF8]) as number;
  const release = (p: number): void => {
    if (p) call('cf', 'CFRelease', T.Void, [T.I64], [p]);
  };
  const cfToString = (s: number): string | null => {
    if (!s) return null;
    if ((call('cf', 'CFGetTypeID', T.I64, [T.I64], [s]) as number) !== (call('cf', 'CFStringGetTypeID', T.I64, [], []) as number)) return null;
    const len = call('cf', 'CFStringGetLength', T.I64, [T.I64], [s]) as number;
    const buf = Buffer.alloc(len * 4 + 1);
    const ok = call('cf', 'CFStringGetCString', T.U8, [T.I64, T.U8Array, T.I64, T.U32], [s, buf, buf.length, kCFStringEncodingUTF8]) as number;
    if (!ok) return null;
    const end = buf.indexOf(0);
    return buf.toString('utf8', 0, end < 0 ? buf.length : end);
  };
  const sel = (name: string): number => call('objc', 'sel_registerName', T.I64, [T.String], [name]) as number;
  const send = (obj: number, selector: number, ret: number = T.I64): unknown =>
    call('objc', 'objc_msgSend', ret, [T.I64, T.I64], [obj, selector]);
  const nsString = (obj: number): string | null => (obj ? (send(obj, SEL.UTF8String, T.String) as string) : null);

  const SEL = {
    sharedWorkspace: sel('sharedWorkspace'),
    frontmostApplication: sel('frontmostApplication'),
    localizedName: sel('localizedName'),
    bundleIdentifier: sel('bundleIdentifier'),
    processIdentifier: sel('processIdentifier'),
    UTF8String: sel('UTF8String'),
  };
  const NSWorkspace = call('objc', 'objc_getClass', T.I64, [T.String], ['NSWorkspace']) as number;
  const K = {
    focusedWindow: cfstr('AXFocusedWindow'),
    title: cfstr('AXTitle'),
    runLoopDefaultMode: cfstr('kCFRunLoopDefaultMode'),
    screenLocked: cfstr('CGSSessionScreenIsLocked'),
  };

  /** AXUIElementCopyAttributeValue; returns an owned CFTypeRef or 0. */
  const axAttr = (element: number, attr: number): number => {
    const out = Buffer.alloc(8);
    const err = call('ax', 'AXUIElementCopyAttributeValue', T.I32, [T.I64, T.I64, T.U8Array], [element, attr, out]) as number;
    return err === kAXErrorSuccess ? Number(out.readBigUInt64LE(0)) : 0;
  };

  return {
    secondsSinceInput: () =>
      call('cg', 'CGEventSourceSecondsSinceLastEventType', T.Double, [T.I32, T.U32], [kCGEventSourceStateCombinedSessionState, kCGAnyInputEventType]) as number,
    frontmostApp() {
      // NSWorkspace learns about app switches through the run loop, which nobody runs in node: pump it once.
      call('cf', 'CFRunLoopRunInMode', T.I32, [T.I64, T.Double, T.U8], [K.runLoopDefaultMode, 0, 1]);
      const pool = call('objc', 'objc_autoreleasePoolPush', T.I64, [], []) as number;
      try {
        const ws = send(NSWorkspace, SEL.sharedWorkspace) as number;
        const app = ws ? (send(ws, SEL.frontmostApplication) as number) : 0;
        if (!app) return null;
        return {
          name: nsString(send(app, SEL.localizedName) as number),
          bundleId: nsString(send(app, SEL.bundleIdentifier) as number),
          pid: send(app, SEL.processIdentifier, T.I32) as number,
        };
      } finally {
        call('objc', 'objc_autoreleasePoolPop', T.Void, [T.I64], [pool]);
      }
    },
    accessibilityTrusted: () => (call('ax', 'AXIsProcessTrusted', T.U8, [], []) as number) !== 0,
    focusedWindowTitle(pid) {
      const app = call('ax', 'AXUIElementCreateApplication', T.I64, [T.I32], [pid]) as number;
      if (!app) return null;
      let win = 0;
      let title = 0;
      try {
        win = axAttr(app, K.focusedWindow);
        if (!win) return null;
        title = axAttr(win, K.title);
        return cfToString(title);
      } finally {
        release(title);
        release(win);
        release(app);
      }
    },
    screenLocked() {
      const dict = call('cg', 'CGSessionCopyCurrentDictionary', T.I64, [], []) as number;
      if (!dict) return null;
      try {
        const v = call('cf', 'CFDictionaryGetValue', T.I64, [T.I64, T.I64], [dict, K.screenLocked]) as number;
        return v ? (call('cf', 'CFBooleanGetValue', T.U8, [T.I64], [v]) as number) !== 0 : false;
      } finally {
        release(dict);
      }
    },
    close() {
      for (const k of Object.values(K)) release(k);
      for (const library of Object.keys(libs)) ffi.close(library);
    },
  };
}
