//! Every limit of the model in one place, each with the reason for its value.

/// Longest object name, in characters (`NTMS_OBJECTNAME_LENGTH` 64 less the terminator).
pub const NAME_LEN_MAX: usize = 63;

/// The rule for object names and principals: 1 to [`NAME_LEN_MAX`]
/// characters, none of them a control character, white space or an
/// invisible character that reorders or hides text (bidirectional controls,
/// zero-width characters). Names are printed in views, messages and logs:
/// none may steer a terminal, split a line or read as another name.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= NAME_LEN_MAX && name.chars().all(is_plain)
}

/// A character that shows as itself: not a control character, not white
/// space, not invisible. Names and bar codes are made of these.
pub fn is_plain(c: char) -> bool {
    !(c.is_control() || c.is_whitespace() || is_invisible(c))
}

/// Characters that show nothing or reorder what follows: Unicode's format
/// characters (category Cf: bidirectional controls, zero-width characters,
/// the soft hyphen, tags), variation selectors, and the blank fillers
/// (Hangul fillers, the Braille blank, the combining grapheme joiner).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{0600}'..='\u{0605}' | '\u{061c}' | '\u{06dd}' | '\u{070f}'
        | '\u{0890}'..='\u{0891}' | '\u{08e2}' | '\u{115f}'..='\u{1160}' | '\u{17b4}'..='\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}'
        | '\u{2800}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

/// Longest bar code, in characters (`NTMS_BARCODE_LENGTH` 64 less the terminator).
pub const BARCODE_LEN_MAX: usize = 63;

/// Drives per library. Drive element addresses run from [`DRIVE_ADDRESS_FIRST`]
/// and must stay below [`SLOT_ADDRESS_FIRST`].
pub const DRIVES_PER_LIBRARY_MAX: u16 = 499;

/// Import/export ports per library; their addresses run from [`PORT_ADDRESS_FIRST`]
/// and must stay below [`DRIVE_ADDRESS_FIRST`].
pub const PORTS_PER_LIBRARY_MAX: u16 = 489;

/// Storage slots per library: a SCSI changer addresses at most 65,536 elements
/// with 16-bit addresses, and slots start at [`SLOT_ADDRESS_FIRST`].
pub const SLOTS_PER_LIBRARY_MAX: u32 = 64_000;

/// Element address of the medium transport (the robot).
pub const TRANSPORT_ADDRESS: u16 = 1;
/// First import/export element address (the layout of common changers and of tgt's).
pub const PORT_ADDRESS_FIRST: u16 = 10;
/// First data transfer element address.
pub const DRIVE_ADDRESS_FIRST: u16 = 500;
/// First storage element address.
pub const SLOT_ADDRESS_FIRST: u16 = 1000;

/// Default bound on the requests not yet finished in one library's queue:
/// beyond it a command is refused with ERROR_NOT_ENOUGH_MEMORY rather than
/// letting the queue (and the memory it holds) grow without bound.
pub const QUEUE_PER_LIBRARY_DEFAULT: usize = 4_096;

/// Default seconds a deferred dismount leaves a medium in its drive (NTMS dwDeferDismountDelay).
pub const DEFER_DISMOUNT_DELAY_S_DEFAULT: u32 = 300;

/// The longest deferral a drive may be given: a week. A cartridge's
/// deadline is set when it is released, so a mistyped delay of years would
/// pin it in its drive long after the delay was corrected.
pub const DEFER_DISMOUNT_DELAY_S_MAX: u32 = 7 * 24 * 3_600;

/// Mount priorities (`NtmsMountPriority`).
pub const PRIORITY_MIN: i8 = -15;
/// Mount priorities (`NtmsMountPriority`).
pub const PRIORITY_MAX: i8 = 15;

/// Finished library requests kept in the live views, newest first out last.
/// NTMS purges finished requests after dwLibRequestPurgeTime (72 h); rsm
/// purges by count so that memory, snapshots and start-up stay bounded
/// however busy the library is. The log keeps every request's history.
pub const FINISHED_REQUESTS_KEPT: usize = 65_536;

/// Levels of nested application pools (`\\A\\B\\C` is 3): deep enough for
/// any application's scheme, shallow enough that a path stays readable.
pub const POOL_DEPTH_MAX: usize = 8;

/// A pool's full path, in characters (spec §3.2 CreateNtmsMediaPool).
pub const POOL_PATH_LEN_MAX: usize = 511;
