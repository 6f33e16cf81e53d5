//! Moving data: `taskapi export`, `import` and `backup` as a user runs them (the real
//! binary), between SQLite data directories and tables on dynalite and moto, with servers
//! started on random ports of 127.0.0.1 to compare what the API answers.

mod backup;
mod helpers;
mod hostile;
mod resume;
mod round_trip;
