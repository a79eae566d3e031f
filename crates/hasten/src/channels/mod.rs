//! Channels: rooms that reach every instance of the app.
//!
//! [`ws::Rooms`](crate::ws::Rooms) broadcast within one process. [`Channels`] do the
//! same through a [`Broker`]: in-process by default, Redis pub/sub (cargo feature
//! `channels-redis`) or PostgreSQL `LISTEN/NOTIFY` (`channels-postgres`) when several
//! instances serve the app. A message published on any instance reaches the
//! subscribers of its room on all of them.
//!
//! ```
//! use hasten::channels::{Channels, Delivery};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let channels = Channels::in_process();
//! let mut ann = channels.subscribe("lobby");
//! channels.publish("lobby", &"hello").await.unwrap();
//! match ann.recv().await {
//!     Some(Delivery::Message(m)) => assert_eq!((m.id(), m.data()), (1, "\"hello\"")),
//!     other => panic!("{other:?}"),
//! }
//! # }
//! ```
//!
//! - **Messages** are JSON, numbered per room by the broker (1, 2, 3 …), so a
//!   subscriber knows when it missed some: [`Delivery::Missed`] says how many.
//! - **Slow subscribers** never hold the others up: each room is a bounded channel in
//!   each process, and a subscriber that falls behind skips the oldest messages (and
//!   is told how many).
//! - **History**: each process keeps the last messages of each room (100 unless set),
//!   so an SSE client reconnecting with `Last-Event-ID` gets what it missed
//!   ([`Channels::sse`]).
//! - **Presence**: [`Channels::enter`] marks a member present in a room while the
//!   returned guard lives; [`Channels::presence`] lists a room's members across the
//!   instances. An instance that dies stops renewing its members, which expire.
//! - **Outages**: a broker connection that drops is reopened with backoff; meanwhile
//!   subscribers get [`Delivery::Interrupted`], and the numbering tells them how many
//!   messages they missed once it is back. Publishing during the outage fails with
//!   [`ChannelError::Unavailable`].

#[cfg(feature = "channels-postgres")]
mod postgres;
#[cfg(feature = "channels-redis")]
mod redis;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::future::BoxFuture;
use crate::streaming::{Event, Sse};

/// A message published to a room.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    id: u64,
    room: Arc<str>,
    data: Arc<str>,
}

impl Message {
    /// Its number in its room: 1 for the room's first message, then one more each time.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Its room.
    pub fn room(&self) -> &str {
        &self.room
    }

    /// Its content, as JSON text.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// Its content, deserialized.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.data)
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("room", &self.room)
            .field("data", &self.data)
            .finish()
    }
}

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The room's next message.
    Message(Message),
    /// This many messages of the room were lost to this subscriber: it fell behind, or
    /// they were published while the broker was unreachable.
    Missed(u64),
    /// The connection to the broker dropped; messages published until it is back may
    /// be lost (a [`Delivery::Missed`] follows with their number, once known).
    Interrupted,
}

/// Why a channel operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChannelError {
    /// The message could not be serialized.
    Serialize(serde_json::Error),
    /// The message is larger than the broker carries (PostgreSQL: 7,000 bytes).
    TooLarge(usize),
    /// The broker could not be reached.
    Unavailable(String),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Serialize(e) => write!(f, "the message does not serialize: {e}"),
            ChannelError::TooLarge(n) => {
                write!(f, "the message is {n} bytes, more than the broker carries")
            }
            ChannelError::Unavailable(why) => write!(f, "the channel broker is unavailable: {why}"),
        }
    }
}

impl std::error::Error for ChannelError {}

/// Where published messages go on their way to every instance. hasten has three
/// ([`Channels::in_process`], `Channels::redis`, `Channels::postgres`); another
/// transport implements this trait and is passed to [`Channels::with_broker`].
pub trait Broker: Send + Sync + 'static {
    /// Publish `data` (JSON text) to `room`: its number in the room.
    fn publish(&self, room: &str, data: &str) -> BoxFuture<Result<u64, ChannelError>>;

    /// Deliver every message published to any room, by any instance, to `sink`, until
    /// the sink's channels are dropped. Reconnect after a failure, calling
    /// [`Sink::interrupted`] when the connection drops.
    fn run(self: Arc<Self>, sink: Sink) -> BoxFuture<()>;

    /// Mark `member` present in `room` on behalf of `instance` for `ttl`.
    fn mark_present(
        &self,
        room: &str,
        member: &str,
        instance: &str,
        ttl: Duration,
    ) -> BoxFuture<Result<(), ChannelError>>;

    /// `member` left `room` on `instance`.
    fn mark_absent(
        &self,
        room: &str,
        member: &str,
        instance: &str,
    ) -> BoxFuture<Result<(), ChannelError>>;

    /// The members present in `room` on any instance, each once, sorted.
    fn present(&self, room: &str) -> BoxFuture<Result<Vec<String>, ChannelError>>;
}

/// Where a broker delivers what it receives: this process's rooms.
#[derive(Clone)]
pub struct Sink {
    local: Weak<Local>,
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("open", &self.is_open())
            .finish()
    }
}

impl Sink {
    /// Deliver message `id` of `room` to this process's subscribers. Whether the
    /// channels still exist (a broker stops when they do not).
    pub fn deliver(&self, room: &str, id: u64, data: &str) -> bool {
        match self.local.upgrade() {
            Some(local) => {
                local.deliver(room, id, data);
                true
            }
            None => false,
        }
    }

    /// The connection to the broker dropped: tell every subscriber.
    pub fn interrupted(&self) {
        if let Some(local) = self.local.upgrade() {
            local.interrupted();
        }
    }

    /// Whether the channels still exist.
    pub fn is_open(&self) -> bool {
        self.local.strong_count() > 0
    }
}

/// This process's rooms: their channels, histories and present members.
struct Local {
    rooms: Mutex<HashMap<Arc<str>, Room>>,
    capacity: AtomicUsize,
    history: AtomicUsize,
    /// The broker's delivery loop and the presence renewal: stopped with the channels,
    /// so no connection to the broker outlives them.
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Drop for Local {
    fn drop(&mut self) {
        for task in self
            .tasks
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

struct Room {
    sender: broadcast::Sender<Delivery>,
    /// The last messages, oldest first.
    recent: VecDeque<Message>,
    /// The newest message's number.
    last: u64,
    /// The broker connection dropped since: the numbering may have restarted (a broker
    /// that lost its state).
    interrupted: bool,
}

impl Local {
    fn room<'a>(&self, rooms: &'a mut HashMap<Arc<str>, Room>, name: &str) -> &'a mut Room {
        if !rooms.contains_key(name) {
            rooms.insert(
                name.into(),
                Room {
                    sender: broadcast::channel(self.capacity.load(Ordering::Relaxed)).0,
                    recent: VecDeque::new(),
                    last: 0,
                    interrupted: false,
                },
            );
        }
        rooms.get_mut(name).expect("just made")
    }

    fn deliver(&self, room_name: &str, id: u64, data: &str) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let history = self.history.load(Ordering::Relaxed);
        let room = self.room(&mut rooms, room_name);
        let restarted = std::mem::take(&mut room.interrupted) && id <= room.last;
        if restarted {
            // The broker's numbering began again: what was lost cannot be counted.
            room.recent.clear();
        } else if id <= room.last {
            return; // already delivered (a broker may repeat itself after reconnecting)
        } else if room.last > 0 && id > room.last + 1 {
            let _ = room.sender.send(Delivery::Missed(id - room.last - 1));
        }
        room.last = id;
        let message = Message {
            id,
            room: room_name.into(),
            data: data.into(),
        };
        if history > 0 {
            while room.recent.len() >= history {
                room.recent.pop_front();
            }
            room.recent.push_back(message.clone());
        }
        let _ = room.sender.send(Delivery::Message(message));
    }

    fn interrupted(&self) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        for room in rooms.values_mut() {
            room.interrupted = true;
            let _ = room.sender.send(Delivery::Interrupted);
        }
    }
}

/// Rooms across instances, through a [`Broker`]. Cheap to clone; keep one in the app's
/// state (`App::state`, or returned by a startup hook).
#[derive(Clone)]
pub struct Channels {
    local: Arc<Local>,
    broker: Arc<dyn Broker>,
    /// This process, as presence records it.
    instance: Arc<str>,
    presence_ttl: Duration,
    /// Members present here: (room, member) → guards alive.
    here: Arc<Mutex<HashMap<(String, String), usize>>>,
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channels")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Channels {
    /// Channels within this process: no broker to run, nothing to set up.
    pub fn in_process() -> Self {
        Channels::with_broker(Arc::new(InProcess::default()))
    }

    /// Channels through `broker`. Its delivery loop runs on the current tokio runtime
    /// until the last clone of the channels is dropped.
    pub fn with_broker(broker: Arc<dyn Broker>) -> Self {
        let local = Arc::new(Local {
            rooms: Mutex::new(HashMap::new()),
            capacity: AtomicUsize::new(256),
            history: AtomicUsize::new(100),
            tasks: Mutex::new(Vec::new()),
        });
        let sink = Sink {
            local: Arc::downgrade(&local),
        };
        let channels = Channels {
            local,
            broker: broker.clone(),
            instance: instance_name().into(),
            presence_ttl: Duration::from_secs(15),
            here: Arc::default(),
        };
        // Made now: the in-process broker takes the sink at once, runtime or not.
        let delivery = broker.run(sink);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let delivery = handle.spawn(delivery);
            let renewal = handle.spawn(renew_presence(
                Arc::downgrade(&channels.here),
                channels.broker.clone(),
                channels.instance.clone(),
                channels.presence_ttl,
            ));
            let mut tasks = channels
                .local
                .tasks
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            tasks.extend([delivery.abort_handle(), renewal.abort_handle()]);
        } else {
            tracing::warn!(target: "hasten::channels", "channels made outside a tokio runtime: only in-process delivery works");
        }
        channels
    }

    /// How many messages a subscriber may fall behind before it skips the oldest (256
    /// unless set), for rooms made from now on.
    pub fn capacity(self, messages: usize) -> Self {
        self.local
            .capacity
            .store(messages.max(1), Ordering::Relaxed);
        self
    }

    /// How many messages a subscriber may fall behind before it skips the oldest.
    pub(crate) fn room_capacity(&self) -> usize {
        self.local.capacity.load(Ordering::Relaxed)
    }

    /// How many of each room's last messages this process keeps for replay (100
    /// unless set; 0 keeps none).
    pub fn history(self, messages: usize) -> Self {
        self.local.history.store(messages, Ordering::Relaxed);
        self
    }

    /// Publish `message` (serialized as JSON) to `room` on every instance: its number
    /// in the room.
    pub async fn publish<T: Serialize + ?Sized>(
        &self,
        room: &str,
        message: &T,
    ) -> Result<u64, ChannelError> {
        let data = serde_json::to_string(message).map_err(ChannelError::Serialize)?;
        self.broker.publish(room, &data).await
    }

    /// Receive what `room` is sent from now on.
    pub fn subscribe(&self, room: &str) -> Subscription {
        let mut rooms = self.local.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let receiver = self.local.room(&mut rooms, room).sender.subscribe();
        Subscription { receiver }
    }

    /// The messages of `room` after number `after` that this process still has, oldest
    /// first, and how many before them it no longer has.
    pub fn since(&self, room: &str, after: u64) -> (Vec<Message>, u64) {
        let rooms = self.local.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(room) = rooms.get(room) else {
            return (Vec::new(), 0);
        };
        let kept: Vec<Message> = room
            .recent
            .iter()
            .filter(|m| m.id > after)
            .cloned()
            .collect();
        let first = kept.first().map_or(room.last + 1, |m| m.id);
        (kept, first.saturating_sub(after + 1))
    }

    /// Mark `member` present in `room` while the returned guard lives.
    pub async fn enter(&self, room: &str, member: &str) -> Result<Presence, ChannelError> {
        let key = (room.to_owned(), member.to_owned());
        let first = {
            let mut here = self.here.lock().unwrap_or_else(|e| e.into_inner());
            let n = here.entry(key.clone()).or_insert(0);
            *n += 1;
            *n == 1
        };
        let presence = Presence {
            channels: self.clone(),
            key,
        };
        if first {
            self.broker
                .mark_present(room, member, &self.instance, self.presence_ttl)
                .await?;
        }
        Ok(presence)
    }

    /// Who is present in `room`, on any instance: each member once, sorted.
    pub async fn presence(&self, room: &str) -> Result<Vec<String>, ChannelError> {
        self.broker.present(room).await
    }

    /// An SSE response of `room`'s messages (event name `message`, the message's number
    /// as its `id`): first those after `last_event_id` that this process still has (a
    /// client reconnecting sends it as `Last-Event-ID`), then the new ones. Lost
    /// messages become a `missed` event whose data is their count; an interruption an
    /// `interrupted` event.
    pub fn sse(&self, room: &str, last_event_id: Option<&str>) -> Sse<impl Stream<Item = Event>> {
        let subscription = self.subscribe(room);
        let after = last_event_id.and_then(|id| id.trim().parse::<u64>().ok());
        let (replay, lost) = match after {
            Some(after) => self.since(room, after),
            None => (Vec::new(), 0),
        };
        let seen = replay.last().map_or(after.unwrap_or(0), |m| m.id);
        let mut first: VecDeque<Event> = VecDeque::new();
        if lost > 0 {
            first.push_back(Event::raw(lost.to_string()).event("missed"));
        }
        first.extend(replay.iter().map(message_event));
        let state = (first, subscription, seen);
        Sse::new(futures_util::stream::unfold(
            state,
            |(mut first, mut subscription, mut seen)| async move {
                if let Some(event) = first.pop_front() {
                    return Some((event, (first, subscription, seen)));
                }
                loop {
                    let event = match subscription.recv().await? {
                        Delivery::Message(m) if m.id <= seen => continue,
                        Delivery::Message(m) => {
                            seen = m.id;
                            message_event(&m)
                        }
                        Delivery::Missed(n) => Event::raw(n.to_string()).event("missed"),
                        Delivery::Interrupted => Event::raw("").event("interrupted"),
                    };
                    return Some((event, (first, subscription, seen)));
                }
            },
        ))
    }
}

fn message_event(m: &Message) -> Event {
    Event::raw(m.data()).event("message").id(m.id.to_string())
}

/// A subscription to one room.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<Delivery>,
}

impl Subscription {
    /// The next delivery; `None` once the channels are gone.
    pub async fn recv(&mut self) -> Option<Delivery> {
        match self.receiver.recv().await {
            Ok(delivery) => Some(delivery),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Delivery::Missed(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// A member present in a room, until dropped.
pub struct Presence {
    channels: Channels,
    key: (String, String),
}

impl fmt::Debug for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence")
            .field("room", &self.key.0)
            .field("member", &self.key.1)
            .finish()
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        let last = {
            let mut here = self.channels.here.lock().unwrap_or_else(|e| e.into_inner());
            match here.get_mut(&self.key) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                _ => {
                    here.remove(&self.key);
                    true
                }
            }
        };
        if !last {
            return;
        }
        let broker = self.channels.broker.clone();
        let instance = self.channels.instance.clone();
        let (room, member) = self.key.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = broker.mark_absent(&room, &member, &instance).await {
                    tracing::warn!(target: "hasten::channels", %room, %member, error = %e, "a departure was not recorded; it expires");
                }
            });
        }
    }
}

/// Renew this process's members in the broker every third of their time to live,
/// until the channels are gone.
async fn renew_presence(
    here: Weak<Mutex<HashMap<(String, String), usize>>>,
    broker: Arc<dyn Broker>,
    instance: Arc<str>,
    ttl: Duration,
) {
    loop {
        tokio::time::sleep(ttl / 3).await;
        let Some(here) = here.upgrade() else { return };
        let members: Vec<(String, String)> = here
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        drop(here);
        for (room, member) in members {
            if let Err(e) = broker.mark_present(&room, &member, &instance, ttl).await {
                tracing::warn!(target: "hasten::channels", %room, %member, error = %e, "presence not renewed");
            }
        }
    }
}

/// This process's name in presence records: host, process ID and a random part.
fn instance_name() -> String {
    let random = crate::random::hex128().map_or_else(|_| "0".to_owned(), |h| h[..8].to_owned());
    format!("{}-{random}", std::process::id())
}

/// The in-process broker: messages go straight to this process's rooms.
#[derive(Default)]
struct InProcess {
    sink: Mutex<Option<Sink>>,
    numbers: Mutex<HashMap<String, u64>>,
    present: Mutex<HashMap<String, HashMap<String, usize>>>,
}

impl Broker for InProcess {
    fn publish(&self, room: &str, data: &str) -> BoxFuture<Result<u64, ChannelError>> {
        let id = {
            let mut numbers = self.numbers.lock().unwrap_or_else(|e| e.into_inner());
            let n = numbers.entry(room.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        if let Some(sink) = &*self.sink.lock().unwrap_or_else(|e| e.into_inner()) {
            sink.deliver(room, id, data);
        }
        Box::pin(async move { Ok(id) })
    }

    fn run(self: Arc<Self>, sink: Sink) -> BoxFuture<()> {
        *self.sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(sink);
        Box::pin(async {})
    }

    fn mark_present(
        &self,
        room: &str,
        member: &str,
        _instance: &str,
        _ttl: Duration,
    ) -> BoxFuture<Result<(), ChannelError>> {
        let mut present = self.present.lock().unwrap_or_else(|e| e.into_inner());
        present
            .entry(room.to_owned())
            .or_default()
            .entry(member.to_owned())
            .or_insert(1);
        Box::pin(async { Ok(()) })
    }

    fn mark_absent(
        &self,
        room: &str,
        member: &str,
        _instance: &str,
    ) -> BoxFuture<Result<(), ChannelError>> {
        let mut present = self.present.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(members) = present.get_mut(room) {
            members.remove(member);
        }
        Box::pin(async { Ok(()) })
    }

    fn present(&self, room: &str) -> BoxFuture<Result<Vec<String>, ChannelError>> {
        let present = self.present.lock().unwrap_or_else(|e| e.into_inner());
        let mut members: Vec<String> = present
            .get(room)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        members.sort();
        Box::pin(async move { Ok(members) })
    }
}

/// The delay before reconnection attempt `n` (from 0): 100 ms doubling to 5 s.
#[cfg_attr(
    not(any(feature = "channels-redis", feature = "channels-postgres")),
    allow(dead_code)
)]
fn reconnect_delay(n: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << n.min(6))).min(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subscriber_gets_messages_in_order_and_is_told_what_it_missed() {
        let channels = Channels::in_process();
        let mut sub = channels.subscribe("r");
        for i in 0..3 {
            channels.publish("r", &i).await.unwrap();
        }
        for want in 1..=3 {
            match sub.recv().await {
                Some(Delivery::Message(m)) => assert_eq!(m.id(), want),
                other => panic!("{other:?}"),
            }
        }
        // A gap in the numbers (messages the broker lost) is reported.
        channels.local.deliver("r", 7, "7");
        assert_eq!(sub.recv().await, Some(Delivery::Missed(3)));
        // A repeated number is dropped.
        channels.local.deliver("r", 7, "7");
        channels.local.deliver("r", 8, "8");
        assert!(matches!(sub.recv().await, Some(Delivery::Message(m)) if m.id() == 7));
        assert!(matches!(sub.recv().await, Some(Delivery::Message(m)) if m.id() == 8));
    }

    #[tokio::test]
    async fn history_replays_after_a_number_and_counts_what_is_gone() {
        let channels = Channels::in_process().history(2);
        let _sub = channels.subscribe("r");
        for i in 0..5 {
            channels.publish("r", &i).await.unwrap();
        }
        let (kept, lost) = channels.since("r", 1);
        assert_eq!(kept.iter().map(Message::id).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(lost, 2);
        assert_eq!(channels.since("r", 5), (vec![], 0));
    }

    #[test]
    fn in_process_channels_deliver_without_a_runtime() {
        let channels = Channels::in_process();
        let mut sub = channels.subscribe("r");
        let published = futures_util::FutureExt::now_or_never(channels.publish("r", &1));
        assert_eq!(published.map(Result::ok), Some(Some(1)));
        assert!(matches!(
            futures_util::FutureExt::now_or_never(sub.recv()),
            Some(Some(Delivery::Message(m))) if m.id() == 1
        ));
    }

    #[tokio::test]
    async fn presence_lasts_while_a_guard_does() {
        let channels = Channels::in_process();
        let a = channels.enter("r", "ann").await.unwrap();
        let a2 = channels.enter("r", "ann").await.unwrap();
        let _b = channels.enter("r", "bob").await.unwrap();
        assert_eq!(channels.presence("r").await.unwrap(), ["ann", "bob"]);
        drop(a);
        assert_eq!(channels.presence("r").await.unwrap(), ["ann", "bob"]);
        drop(a2);
        tokio::task::yield_now().await;
        assert_eq!(channels.presence("r").await.unwrap(), ["bob"]);
    }
}
