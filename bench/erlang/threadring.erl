%% Savina ThreadRing in Erlang/OTP, the reference for troupe's
%% bench/savina.ts: N processes in a ring pass a token R times; the process
%% that receives it with no hops left tells the driver. Prints one JSON line
%% with the milliseconds of each recorded run.
%%
%%   erlc threadring.erl && erl -noshell -eval 'threadring:main(100, 100000, 5, 1), init:stop().'
-module(threadring).
-export([main/4]).

main(Actors, Hops, Runs, Warmups) ->
    [run(Actors, Hops) || _ <- lists:seq(1, Warmups)],
    Ms = [run(Actors, Hops) || _ <- lists:seq(1, Runs)],
    io:format("{\"bench\":\"threadring\",\"actors\":~b,\"hops\":~b,\"schedulers\":~b,\"otp\":\"~s\",\"ms\":[~s]}~n",
              [Actors, Hops, erlang:system_info(schedulers_online), erlang:system_info(otp_release), join(Ms)]).

run(Actors, Hops) ->
    Parent = self(),
    Spawn = fun() -> spawn(fun() -> receive {next, Next} -> member(Next, Parent) end end) end,
    First = Spawn(),
    Last = lists:foldl(fun(_, Prev) -> P = Spawn(), Prev ! {next, P}, P end, First, lists:seq(2, Actors)),
    Last ! {next, First},
    T0 = erlang:monotonic_time(nanosecond),
    First ! {token, Hops},
    receive done -> ok end,
    T1 = erlang:monotonic_time(nanosecond),
    First ! stop,
    (T1 - T0) / 1.0e6.

member(Next, Parent) ->
    receive
        {token, 0} -> Parent ! done, member(Next, Parent);
        {token, Left} -> Next ! {token, Left - 1}, member(Next, Parent);
        stop -> Next ! stop
    end.

join(Values) ->
    string:join([io_lib:format("~.3f", [V]) || V <- Values], ",").
