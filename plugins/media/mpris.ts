import dbus from 'dbus-next';

/** What one MPRIS player is playing, as read over the session bus. */
export interface PlayerState {
  /** The player's bus name without the `org.mpris.MediaPlayer2.` prefix (`vlc`, `firefox.instance_1_42`). */
  busName: string;
  /** Its `Identity` ("VLC media player"), or the bus name when it has none. */
  player: string;
  /** MPRIS PlaybackStatus: Playing, Paused or Stopped. */
  status: string;
  title: string;
  artist: string;
  album?: string;
  url?: string;
}

export const MPRIS_PREFIX = 'org.mpris.MediaPlayer2.';
const MPRIS_PATH = '/org/mpris/MediaPlayer2';
const PLAYER_IFACE = 'org.mpris.MediaPlayer2.Player';
const ROOT_IFACE = 'org.mpris.MediaPlayer2';
const PROPS_IFACE = 'org.freedesktop.DBus.Properties';

type Props = dbus.ClientInterface & {
  Get(iface: string, prop: string): Promise<dbus.Variant>;
  GetAll(iface: string): Promise<Record<string, dbus.Variant>>;
};

const text = (v: unknown): string | undefined => {
  const x = v instanceof dbus.Variant ? v.value : v;
  if (typeof x === 'string' && x !== '') return x;
  if (Array.isArray(x)) {
    const parts = x.filter((p): p is string => typeof p === 'string' && p !== '');
    return parts.length ? parts.join(', ') : undefined;
  }
  return undefined;
};

/**
 * Reads the players on a session bus and tells when one changes. `onChange` fires on every
 * PropertiesChanged of a player's Player interface, and when players come and go.
 */
export async function mprisReader(bus: dbus.MessageBus, onChange: () => void) {
  const dbusObj = await bus.getProxyObject('org.freedesktop.DBus', '/org/freedesktop/DBus');
  const daemon = dbusObj.getInterface('org.freedesktop.DBus') as dbus.ClientInterface & { ListNames(): Promise<string[]> };
  const watched = new Map<string, Props>();

  const propsOf = async (name: string): Promise<Props> => {
    let p = watched.get(name);
    if (!p) {
      const obj = await bus.getProxyObject(name, MPRIS_PATH);
      p = obj.getInterface(PROPS_IFACE) as Props;
      p.on('PropertiesChanged', (iface: string) => {
        if (iface === PLAYER_IFACE) onChange();
      });
      watched.set(name, p);
    }
    return p;
  };
  daemon.on('NameOwnerChanged', (name: string, _old: string, owner: string) => {
    if (!name.startsWith(MPRIS_PREFIX)) return;
    if (!owner) watched.delete(name);
    onChange();
  });

  return {
    async players(): Promise<PlayerState[]> {
      const names = (await daemon.ListNames()).filter((n) => n.startsWith(MPRIS_PREFIX)).sort();
      const out: PlayerState[] = [];
      for (const name of names) {
        try {
          const props = await propsOf(name);
          const player = await props.GetAll(PLAYER_IFACE);
          const identity = await props.Get(ROOT_IFACE, 'Identity').then(text, () => undefined);
          const meta = (player.Metadata?.value ?? {}) as Record<string, dbus.Variant>;
          const busName = name.slice(MPRIS_PREFIX.length);
          const state: PlayerState = {
            busName,
            player: identity ?? busName,
            status: text(player.PlaybackStatus) ?? 'Stopped',
            title: text(meta['xesam:title']) ?? '',
            artist: text(meta['xesam:artist']) ?? '',
          };
          const album = text(meta['xesam:album']);
          const url = text(meta['xesam:url']);
          if (album) state.album = album;
          if (url) state.url = url;
          out.push(state);
        } catch {
          watched.delete(name); // went away between ListNames and the reads
        }
      }
      return out;
    },
  };
}
