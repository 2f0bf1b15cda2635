/**
 * Win32 declarations and calls only (no decisions here: see logic.ts). Loaded lazily, main thread only.
 * Handles are passed as pointer-sized integers (I64), NULL = 0 — Windows on x64/arm64.
 */
import { loadFfi } from '../ffi.js';
import type { WinApi } from './logic.js';

const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const DESKTOP_SWITCHDESKTOP = 0x0100;
const MAX_TEXT = 1024; // UTF-16 code units

export function openWinApi(): WinApi {
  const ffi = loadFfi();
  const { DataType: T } = ffi;
  ffi.open({ library: 'user32', path: 'user32.dll' });
  ffi.open({ library: 'kernel32', path: 'kernel32.dll' });
  const call = (library: string, funcName: string, retType: number, paramsType: number[], paramsValue: unknown[]): unknown =>
    ffi.load({ library, funcName, retType: retType as never, paramsType: paramsType as never[], paramsValue });

  const wide = (buf: Buffer, chars: number): string => buf.toString('utf16le', 0, Math.max(0, chars) * 2);

  return {
    tickCount64: () => BigInt(call('kernel32', 'GetTickCount64', T.BigInt, [], []) as bigint),
    lastInputTick() {
      const info = Buffer.alloc(8); // LASTINPUTINFO { UINT cbSize; DWORD dwTime; }
      info.writeUInt32LE(8, 0);
      const ok = call('user32', 'GetLastInputInfo', T.I32, [T.U8Array], [info]) as number;
      return ok ? info.readUInt32LE(4) : null;
    },
    foregroundWindow: () => call('user32', 'GetForegroundWindow', T.I64, [], []) as number,
    windowText(hwnd) {
      const buf = Buffer.alloc(MAX_TEXT * 2);
      const n = call('user32', 'GetWindowTextW', T.I32, [T.I64, T.U8Array, T.I32], [hwnd, buf, MAX_TEXT]) as number;
      return n >= 0 ? wide(buf, n) : null;
    },
    windowPid(hwnd) {
      const pid = Buffer.alloc(4);
      call('user32', 'GetWindowThreadProcessId', T.U32, [T.I64, T.U8Array], [hwnd, pid]);
      return pid.readUInt32LE(0);
    },
    processImagePath(pid) {
      const h = call('kernel32', 'OpenProcess', T.I64, [T.U32, T.I32, T.U32], [PROCESS_QUERY_LIMITED_INFORMATION, 0, pid]) as number;
      if (!h) return null;
      try {
        const buf = Buffer.alloc(MAX_TEXT * 2);
        const size = Buffer.alloc(4);
        size.writeUInt32LE(MAX_TEXT, 0);
        const ok = call('kernel32', 'QueryFullProcessImageNameW', T.I32, [T.I64, T.U32, T.U8Array, T.U8Array], [h, 0, buf, size]) as number;
        return ok ? wide(buf, size.readUInt32LE(0)) : null;
      } finally {
        call('kernel32', 'CloseHandle', T.I32, [T.I64], [h]);
      }
    },
    childWindows(hwnd) {
      const out: number[] = [];
      let after = 0;
      // FindWindowExW(parent, childAfter, NULL class, NULL title) walks the direct children.
      for (let i = 0; i < 256; i++) {
        after = call('user32', 'FindWindowExW', T.I64, [T.I64, T.I64, T.I64, T.I64], [hwnd, after, 0, 0]) as number;
        if (!after) break;
        out.push(after);
      }
      return out;
    },
    inputDesktopOpen() {
      const desk = call('user32', 'OpenInputDesktop', T.I64, [T.U32, T.I32, T.U32], [0, 0, DESKTOP_SWITCHDESKTOP]) as number;
      if (!desk) return false;
      call('user32', 'CloseDesktop', T.I32, [T.I64], [desk]);
      return true;
    },
    close() {
      ffi.close('user32');
      ffi.close('kernel32');
    },
  };
}
